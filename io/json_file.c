/* json_file.c -- users' JSON files read through input_file.h, parse errors with their position
 * (json_file.h). */
#include "io/json_file.h"

#include <unistd.h>

#include "common/rf_error.h"
#include "io/input_file.h"

int rf_fail_json(const char *what, const json_error_t *e) {
    if (e->line < 1) return rf_fail("%s: cannot read as JSON: %s", what, e->text); /* I/O error */
    return rf_fail("%s: not valid JSON at line %d column %d: %s", what, e->line, e->column,
                   e->text);
}

int rf_json_read_object(const char *path, size_t flags, json_t **root) {
    int fd;
    size_t size;
    *root = NULL;
    if (rf_input_open(path, &fd, &size) != RF_OK) return RF_ERR;
    json_error_t e;
    json_t *j = json_loadfd(fd, flags, &e);
    close(fd);
    if (!j) return rf_fail_json(path, &e);
    if (!json_is_object(j)) {
        json_decref(j);
        return rf_fail("%s: not a JSON object at the top level", path);
    }
    *root = j;
    return RF_OK;
}
