/* json_file.h -- the JSON files of a user's model folder (config.json,
 * model.safetensors.index.json) read one way, and jansson's parse errors reported one way.
 *
 * Every message names the file first: "DIR/config.json: not valid JSON at line 3 column 17:
 * invalid token" (line and column from jansson's json_error_t).
 */
#ifndef RF_JSON_FILE_H
#define RF_JSON_FILE_H

#include <jansson.h>

/* Reads PATH as a JSON object (jansson's decoding flags, e.g. JSON_REJECT_DUPLICATES) into *root,
 * which the caller json_decref's. The file is opened as io/input_file.h does: never blocks,
 * regular files only. RF_ERR naming PATH: it cannot be opened, it is not a regular file, it is
 * not valid JSON (line, column, jansson's text), or its top level is not an object. */
int rf_json_read_object(const char *path, size_t flags, json_t **root);

/* Records jansson's parse error e about WHAT (a file name, or "FILE: header"):
 * "WHAT: not valid JSON at line L column C: TEXT". Returns RF_ERR. */
int rf_fail_json(const char *what, const json_error_t *e);

#endif
