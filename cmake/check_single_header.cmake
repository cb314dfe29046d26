# Checks single_include/mote/mote.hpp on its own (run by CTest, see tests/CMakeLists.txt):
#   cmake -DCOMPILER=<c++> -DSINGLE_INCLUDE_DIR=<dir> -DMODE=run|no_exceptions
#         [-DSOURCE=<main.cpp> -DOUTPUT=<exe>] -P check_single_header.cmake
#   MODE=run:           compile SOURCE with only -I SINGLE_INCLUDE_DIR, then run it (exit 0).
#   MODE=no_exceptions: the single header must compile with -fno-exceptions.
# No include directory of mote's sources, xsimd or Highway is passed, and no MOTE_HAS_* macro:
# this is what a user who copies the one file gets.
foreach(var COMPILER SINGLE_INCLUDE_DIR MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_single_header.cmake: -D${var}=... is required")
  endif()
endforeach()
set(ENV{LC_ALL} C)
set(warnings -Wall -Wextra -Wpedantic -Werror)

if(MODE STREQUAL "run")
  set(cmd "${COMPILER}" -std=c++20 -O1 ${warnings} "-I${SINGLE_INCLUDE_DIR}" "${SOURCE}"
          -pthread -o "${OUTPUT}")
elseif(MODE STREQUAL "no_exceptions")
  get_filename_component(dir "${OUTPUT}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  set(tu "${OUTPUT}.cpp")
  file(WRITE "${tu}" "#include <mote/mote.hpp>\nint main() { return 0; }\n")
  set(cmd "${COMPILER}" -std=c++20 -fsyntax-only -fno-exceptions ${warnings}
          "-I${SINGLE_INCLUDE_DIR}" "${tu}")
else()
  message(FATAL_ERROR "check_single_header.cmake: MODE must be run or no_exceptions")
endif()

string(REPLACE ";" " " cmd_text "${cmd}")
message(STATUS "${cmd_text}")
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the single header does not compile on its own:\n${out}")
endif()
if(NOT out STREQUAL "")
  message("${out}")
endif()

if(MODE STREQUAL "run")
  execute_process(COMMAND "${OUTPUT}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${OUTPUT} exited with ${rc}")
  endif()
endif()
