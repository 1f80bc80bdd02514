/* checkpoint_internal.h -- what checkpoint.c (the file, /matrices) shares with vit_record.c
 * (/vit): the root attributes and the messages that name the file. */
#ifndef RF_CHECKPOINT_INTERNAL_H
#define RF_CHECKPOINT_INTERNAL_H

#include <hdf5.h>

#define RF_CKPT_PATH_LEN 4096

/* format, format_version, config, created, version (and provenance when not NULL) on "/". */
void rf_ckpt_write_root_attrs(hid_t file, const char *format, const char *config_json,
                              const char *provenance_json);
/* RF_ERR naming fname unless the root has this format, RF_FORMAT_VERSION and exactly config. */
int rf_ckpt_check_root(hid_t file, const char *fname, const char *format, const char *config_json);
/* Prefixes the recorded message (which names the object) with the file it is about; RF_ERR. */
int rf_ckpt_fail_in(const char *fname);
/* RF_ERR unless name can be one HDF5 link name (no '/', not empty, not "."). */
int rf_ckpt_check_name(const char *fname, const char *name);

/* The names under group (sorted); missing_ok: no group means no names rather than RF_ERR. */
int rf_ckpt_list(const char *path, const char *group, int missing_ok, char ***names, int *n);

/* /vit/NAME of vit_record.c, on an open file: write it, or read it back and check it (weight may
 * be NULL: checks and checksums only). */
typedef struct rf_vit_record rf_vit_record;
void rf_vit_write_group(hid_t file, const rf_vit_record *rec);
typedef struct rf_vit_info rf_vit_info;
int rf_vit_read_group(hid_t file, const char *fname, const char *name, rf_vit_info *info,
                      float **weight);

#endif
