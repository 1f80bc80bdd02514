# aarch64-linux-gnu.cmake -- CMake toolchain file: cross-compile for 64-bit Arm Linux with Debian's
# cross compiler (gcc-aarch64-linux-gnu) against Debian's arm64 libraries (dpkg multiarch, in
# /usr/lib/aarch64-linux-gnu), and run what it builds (ctest, try_run) under qemu-user.
# scripts/install-deps.sh --arm64 installs these parts; scripts/cross-arm.sh uses this file with
# -DRF_KERNELS_ONLY=ON (only common/ and kernels/: no arm64 MPI or HDF5 is needed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# The compiler's own runtime (libc, libgomp) lives in /usr/aarch64-linux-gnu; Debian's arm64
# packages install into the host's /usr/lib/aarch64-linux-gnu and /usr/include/aarch64-linux-gnu,
# which CMake searches by the library architecture the compiler reports. Host programs (cmake's
# helpers) are found on the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# -L: qemu looks up the target's dynamic loader (the cross C library's) under this prefix first.
# -E: that loader's own C library with it. Otherwise the loader searches the multiarch folders
# first and takes libc.so.6 from libc6:arm64 (the arm64 packages pull it in), a different build of
# glibc than the loader (Debian 12: 2.36-8cross1 beside 2.36-9+deb12u14): their private structures
# disagree and the first pthread_create loops forever (every OpenMP or OpenBLAS thread).
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib)
