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
# -L: qemu looks up the target's dynamic loader and libraries under this prefix first.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
