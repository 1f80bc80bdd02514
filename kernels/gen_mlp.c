/* gen_mlp.c -- placeholder, being written */
#include "kernels/vitgen_internal.h"
