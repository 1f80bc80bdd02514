/* io_asserts.h -- assertions shared by the io tests: that a path exists, that the recorded error
 * names what it must, and the root attributes of a riverforge file read with plain HDF5 calls
 * (not riverforge's readers). Include after cmocka. */
#ifndef RF_IO_ASSERTS_H
#define RF_IO_ASSERTS_H

#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/rf_error.h"
#include "io/h5_container.h"

static inline int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The last error mentions a, and b when b is not NULL. */
static inline void assert_error_mentions(const char *a, const char *b) {
    const char *e = rf_last_error();
    print_message("    error: %s\n", e); /* what a user would read */
    if (!strstr(e, a) || (b && !strstr(e, b)))
        fail_msg("error \"%s\" does not mention \"%s\"%s%s", e, a, b ? " and " : "", b ? b : "");
}

/* A string attribute, which must be variable-length UTF-8 (docs/formats.md); malloc'd. */
static inline char *attr_str(hid_t file, const char *obj, const char *name) {
    hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a);
    assert_true(H5Tis_variable_str(t) > 0);
    assert_int_equal(H5Tget_cset(t), H5T_CSET_UTF8);
    char *s = NULL;
    assert_true(H5Aread(a, t, &s) >= 0);
    char *copy = strdup(s);
    H5free_memory(s);
    H5Tclose(t);
    H5Aclose(a);
    return copy;
}

static inline int64_t attr_i64(hid_t file, const char *obj, const char *name) {
    int64_t v = -1;
    hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    return v;
}

/* Root attributes every file carries; "created" looks like 2024-05-01T12:00:00Z. */
static inline void assert_root_attrs(hid_t file, const char *format, const char *config) {
    char *s = attr_str(file, "/", "format");
    assert_string_equal(s, format);
    free(s);
    assert_int_equal(attr_i64(file, "/", "format_version"), RF_FORMAT_VERSION);
    s = attr_str(file, "/", "config");
    assert_string_equal(s, config);
    free(s);
    s = attr_str(file, "/", "version");
    assert_string_equal(s, RF_VERSION);
    free(s);
    s = attr_str(file, "/", "created");
    assert_int_equal(strlen(s), 20);
    assert_true(s[4] == '-' && s[10] == 'T' && s[19] == 'Z');
    free(s);
}

#endif
