/* safetensors.c -- see safetensors.h (being written). */
