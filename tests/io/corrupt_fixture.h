/* corrupt_fixture.h -- damaging HDF5 files on purpose: where a dataset's first chunk lies, and
 * flipping one byte there, so tests can check that Fletcher32 catches it. Include after cmocka.
 *
 * Every file riverforge writes carries a checksum of its whole image (io/image_checksum.h) that
 * catches any flipped byte before HDF5 reads the file. To test the layers under it (Fletcher32,
 * the record checks), damage_first_chunk and reseal_image write a new image checksum after the
 * change, as if the bytes had been damaged in memory before the file was written. */
#ifndef RF_CORRUPT_FIXTURE_H
#define RF_CORRUPT_FIXTURE_H

#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/image_checksum.h"

/* The file offset of the first chunk of dataset dset (an absolute path in the file). HDF5's
 * addresses count from the end of the user block. */
static inline haddr_t first_chunk(const char *path, const char *dset) {
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t d = H5Dopen2(file, dset, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t space = H5Dget_space(d);
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    unsigned mask;
    assert_true(H5Dget_chunk_info(d, space, 0, NULL, &mask, &addr, &size) >= 0);
    assert_true(addr != HADDR_UNDEF && size > 8);
    hid_t fcpl = H5Fget_create_plist(file);
    hsize_t userblock = 0;
    assert_true(H5Pget_userblock(fcpl, &userblock) >= 0);
    H5Pclose(fcpl);
    addr += userblock;
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(file);
    return addr;
}

static inline void flip_byte(const char *path, off_t at) {
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

/* A new image checksum for the bytes the file holds now. */
static inline void reseal_image(const char *path) {
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *bytes = malloc((size_t)st.st_size);
    assert_int_equal(pread(fd, bytes, (size_t)st.st_size, 0), st.st_size);
    rf_image_header_fill(bytes, bytes + RF_IMAGE_HEADER_BYTES,
                         (size_t)st.st_size - RF_IMAGE_HEADER_BYTES);
    assert_int_equal(pwrite(fd, bytes, RF_IMAGE_HEADER_BYTES, 0), RF_IMAGE_HEADER_BYTES);
    free(bytes);
    close(fd);
}

/* One byte inside the first chunk of dataset dset, under a resealed image checksum: what
 * Fletcher32 must catch. */
static inline void damage_first_chunk(const char *path, const char *dset) {
    flip_byte(path, (off_t)first_chunk(path, dset) + 5);
    reseal_image(path);
}

#endif
