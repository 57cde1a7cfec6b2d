# warden_add_ownership_check(NAME <test> COMMAND <program> [args...])
#
# Registers a CTest test that runs a program which ends in warden::check_coverage(),
# such as an application started with a --check-ownership flag: the test fails when an
# endpoint has no owner or probed code ran unowned. Labelled "ownership-check".
function(warden_add_ownership_check)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME" "COMMAND")
  if(NOT arg_NAME OR NOT arg_COMMAND)
    message(FATAL_ERROR "warden_add_ownership_check needs NAME and COMMAND")
  endif()
  add_test(NAME ${arg_NAME} COMMAND ${arg_COMMAND})
  set_tests_properties(${arg_NAME} PROPERTIES LABELS ownership-check)
endfunction()
