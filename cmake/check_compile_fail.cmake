# One half of a compile-fail pair (run by CTest, see tests/CMakeLists.txt):
#   cmake -DCOMPILER=<c++> -DSOURCE=<file.cpp> -DINCLUDE_DIR=<dir> -DMODE=ok|ko
#         -P check_compile_fail.cmake
# The first line of SOURCE reads `// expect: <regex>` (CMake regex syntax), matched against each
# line of the compiler's output (C locale). Match the static_assert sentence, not the compiler's
# wording around it ("static assertion failed" is GCC's, Clang says "static_assert failed").
#   MODE=ok: SOURCE must compile (-fsyntax-only) without MOTE_KO.
#   MODE=ko: SOURCE must NOT compile with -DMOTE_KO, and the compiler's output must match the
#            regex; the matching diagnostic line is printed. A ko variant that compiles fails, and
#            so does one that fails for another reason, so a test cannot pass by accident.
foreach(var COMPILER SOURCE INCLUDE_DIR MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile_fail.cmake: -D${var}=... is required")
  endif()
endforeach()

# Plain ASCII diagnostics whatever the locale, so expectations need no ‘’ quotes.
set(ENV{LC_ALL} C)

file(STRINGS "${SOURCE}" first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^//[ \t]*expect:[ \t]*(.+)$")
  message(FATAL_ERROR "${SOURCE}: the first line must be `// expect: <regex>`, got: ${first_line}")
endif()
string(STRIP "${CMAKE_MATCH_1}" expect)
string(REPLACE "\\;" ";" expect "${expect}")  # file(STRINGS) escapes `;`

# The project's warning policy applies: the ok variant must compile cleanly.
set(cmd "${COMPILER}" -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror "-I${INCLUDE_DIR}")
if(MODE STREQUAL "ko")
  list(APPEND cmd -DMOTE_KO)
elseif(NOT MODE STREQUAL "ok")
  message(FATAL_ERROR "check_compile_fail.cmake: MODE must be ok or ko, got '${MODE}'")
endif()
list(APPEND cmd "${SOURCE}")

execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REPLACE ";" " " cmd_text "${cmd}")

if(MODE STREQUAL "ok")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} must compile without MOTE_KO but did not.\n"
                        "command: ${cmd_text}\n${out}")
  endif()
  message(STATUS "ok: compiles without MOTE_KO")
  return()
endif()

if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled with -DMOTE_KO but must not.\ncommand: ${cmd_text}\n${out}")
endif()
# Line by line (not a CMake list: diagnostics hold `;` and unbalanced `[`).
set(rest "${out}")
while(NOT rest STREQUAL "")
  string(FIND "${rest}" "\n" eol)
  if(eol EQUAL -1)
    set(line "${rest}")
    set(rest "")
  else()
    string(SUBSTRING "${rest}" 0 ${eol} line)
    math(EXPR next "${eol} + 1")
    string(SUBSTRING "${rest}" ${next} -1 rest)
  endif()
  if(line MATCHES "${expect}")
    message(STATUS "ko: failed as expected; matched /${expect}/ in:\n  ${line}")
    return()
  endif()
endwhile()
message(FATAL_ERROR "${SOURCE} failed to compile with -DMOTE_KO, but no output line matches the "
                    "expected /${expect}/ (it may fail for another reason).\n"
                    "command: ${cmd_text}\n${out}")
