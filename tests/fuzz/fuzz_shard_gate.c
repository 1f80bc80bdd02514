/* fuzz_shard_gate.c -- libFuzzer harness: the image-checksum gate of a shard, as a resumed run
 * meets it (rf_matrix_shard_verify: rf_image_check first, HDF5 only after it).
 *
 * Input: a whole shard file; the seeds are shards a run wrote, so the fuzzer's mutations are
 * mutations of valid shard images. The reference verdict is computed here independently: the
 * file is sound when its first 512 bytes are exactly
 *     "riverforge-image xxh3-128 <XXH3-128 of the rest, 32 hex> <size of the rest>\n" + NULs.
 * Checks: a file that is not sound is refused by the gate itself -- the resume's verification
 * returns its line naming the file, "damaged", "truncated" or "not a ... riverforge HDF5 file"
 * -- so that HDF5 never opens it; a sound file passes rf_image_check. Sound files are not handed
 * to HDF5 here: a sound file is a seed (test_resume verifies real shards) or, rarely, a header the
 * fuzzer rewrote to the hash its compare hooks saw, a forgery the checksum does not claim to stop
 * (it guards against damage).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "io/image_checksum.h"
#include "io/matrix_record.h"
#include "tests/fuzz/fuzz_util.h"

static int sound_ref(const uint8_t *data, size_t size) {
    if (size < RF_IMAGE_HEADER_BYTES) return 0;
    XXH128_hash_t h = XXH3_128bits(data + RF_IMAGE_HEADER_BYTES, size - RF_IMAGE_HEADER_BYTES);
    char want[RF_IMAGE_HEADER_BYTES] = {0};
    snprintf(want, sizeof want, "riverforge-image xxh3-128 %016" PRIx64 "%016" PRIx64 " %zu\n",
             (uint64_t)h.high64, (uint64_t)h.low64, size - RF_IMAGE_HEADER_BYTES);
    return memcmp(want, data, RF_IMAGE_HEADER_BYTES) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("shard.h5", data, size);
    if (sound_ref(data, size)) {
        FUZZ_CHECK(rf_image_check(path, 1) == RF_OK, "a sound image refused: %s", rf_last_error());
        return 0;
    }
    FUZZ_CHECK(rf_matrix_shard_verify(path, "model.layers.0.mlp.up_proj", "{}", NULL) == RF_ERR,
               "a damaged shard passed verification");
    fuzz_check_refusal(path);
    const char *e = rf_last_error();
    FUZZ_CHECK(strstr(e, "damaged") || strstr(e, "truncated") ||
                   strstr(e, "not a riverforge HDF5 file"),
               "refused by something after the image checksum: %s", e);
    return 0;
}
