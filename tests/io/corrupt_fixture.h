/* corrupt_fixture.h -- damaging HDF5 files on purpose: where a dataset's first chunk lies, and
 * flipping one byte there, so tests can check that Fletcher32 catches it. Include after cmocka. */
#ifndef RF_CORRUPT_FIXTURE_H
#define RF_CORRUPT_FIXTURE_H

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

/* The file offset of the first chunk of dataset dset (an absolute path in the file). */
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

/* One byte inside the first chunk of dataset dset: what Fletcher32 must catch. */
static inline void damage_first_chunk(const char *path, const char *dset) {
    flip_byte(path, (off_t)first_chunk(path, dset) + 5);
}

#endif
