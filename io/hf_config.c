/* hf_config.c -- see hf_config.h (being written). */
