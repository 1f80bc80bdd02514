/* aqlm.c -- being written */
