# Included right after find_package(xsimd) by mote's CMakeLists.txt and by moteConfig.cmake.
#
# Debian 12's xsimd 8.1 package lists `xtl` in the INTERFACE_LINK_LIBRARIES of target `xsimd`
# but neither ships nor finds it, so without a target of that name the linker is handed `-lxtl`
# and fails. xtl is header-only and only serves XSIMD_ENABLE_XTL_COMPLEX, which mote does not use:
# find the real one if it is there, else stand in with an empty target.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_mote_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_mote_xsimd_links AND "xtl" IN_LIST _mote_xsimd_links)
    find_package(xtl CONFIG QUIET)
    if(NOT TARGET xtl)
      add_library(xtl INTERFACE IMPORTED)
    endif()
  endif()
  unset(_mote_xsimd_links)
endif()
