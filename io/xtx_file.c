/* xtx_file.c -- see xtx_file.h (being written). */
