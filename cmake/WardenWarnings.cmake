# warden_set_warnings(<target>...): the warning set every Warden target is built with.
# -Wconversion is on; -Wsign-conversion is not (it flags every size_t/int index in tests
# and examples without finding real bugs). WARDEN_WERROR adds -Werror (the test command
# sets it).
function(warden_set_warnings)
  foreach(target IN LISTS ARGN)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                             $<$<BOOL:${WARDEN_WERROR}>:-Werror>)
  endforeach()
endfunction()
