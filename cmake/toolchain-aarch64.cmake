# Cross-compiling mote for AArch64 Linux with Debian's g++-aarch64-linux-gnu, tests run under
# qemu-user (tools/test_neon.sh does all of this):
#   apt-get install g++-aarch64-linux-gnu qemu-user
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake ...
#
# CMAKE_CROSSCOMPILING_EMULATOR makes add_test(COMMAND <target>), catch_discover_tests (both at
# build time, to list the test cases, and in ctest) run the AArch64 binaries through
#   qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max
# (-L: the AArch64 dynamic loader and libraries of libc6-arm64-cross; -cpu max: every extension
# qemu emulates, dot product included, so neon_dotprod is dispatched). Override with
# -DMOTE_AARCH64_EMULATOR="qemu-aarch64;-L;/usr/aarch64-linux-gnu;-cpu;cortex-a57" (a CMake list).
#
# Host packages: Catch2 2.x is header-only and arch-independent, so the host's serves: its config
# (/usr/lib/cmake/Catch2) is used through Catch2_DIR, set below unless given. Its include directory,
# /usr/include, is one CMake leaves off command lines (an implicit directory), and Debian's cross
# g++ searches it anyway, last, after the AArch64 headers in /usr/aarch64-linux-gnu/include. Other
# packages are searched for under /usr/aarch64-linux-gnu only, so the host's xsimd and Highway
# (x86-64 multiarch configs) are not found; tools/test_neon.sh also turns them off.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(MOTE_AARCH64_TRIPLE aarch64-linux-gnu)
find_program(MOTE_AARCH64_CXX NAMES ${MOTE_AARCH64_TRIPLE}-g++ ${MOTE_AARCH64_TRIPLE}-g++-12
             DOC "AArch64 cross C++ compiler")
if(NOT MOTE_AARCH64_CXX)
  message(FATAL_ERROR "cmake/toolchain-aarch64.cmake: ${MOTE_AARCH64_TRIPLE}-g++ not found "
                      "(Debian: apt-get install g++-aarch64-linux-gnu)")
endif()
set(CMAKE_CXX_COMPILER "${MOTE_AARCH64_CXX}")
set(CMAKE_C_COMPILER "${MOTE_AARCH64_TRIPLE}-gcc")  # mote is CXX-only; for parent projects
set(CMAKE_LIBRARY_ARCHITECTURE ${MOTE_AARCH64_TRIPLE})

# Target libraries and headers: the cross sysroot-ish prefix of libc6-dev-arm64-cross.
set(CMAKE_FIND_ROOT_PATH /usr/${MOTE_AARCH64_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # host tools (python3, pkg-config)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Package configs: the target's only; an arch-independent host package is used by naming its
# config directory (-D<Package>_DIR=..., which find_package takes as given), as for Catch2.
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
if(NOT DEFINED Catch2_DIR AND EXISTS /usr/lib/cmake/Catch2/Catch2Config.cmake)
  set(Catch2_DIR /usr/lib/cmake/Catch2 CACHE PATH "Catch2's CMake config (host, header-only)")
endif()

if(NOT DEFINED MOTE_AARCH64_EMULATOR)
  find_program(MOTE_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static
               DOC "qemu-user for AArch64 (Debian: apt-get install qemu-user)")
  if(MOTE_QEMU_AARCH64)
    set(MOTE_AARCH64_EMULATOR "${MOTE_QEMU_AARCH64};-L;/usr/${MOTE_AARCH64_TRIPLE};-cpu;max")
  endif()
endif()
if(MOTE_AARCH64_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${MOTE_AARCH64_EMULATOR}")
endif()
