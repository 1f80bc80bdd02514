/* checkpoint.c -- see checkpoint.h (being written). */
