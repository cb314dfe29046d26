# mote_set_warnings(<target>): the project's warning policy for its own executables (tests,
# examples, benchmarks). Never applied to the INTERFACE target `mote`: consumers choose their own
# flags. -Wconversion is deliberately not enabled.
option(MOTE_WARNINGS_AS_ERRORS "Treat warnings as errors in mote's tests, examples and benchmarks"
       ON)

function(mote_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /permissive-)
    if(MOTE_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(MOTE_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()
