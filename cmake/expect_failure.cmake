# Runs a program that must fail, and fails unless it does so for the expected reason.
#
#   cmake -Dexpected_output=<regex> -P expect_failure.cmake <program> [args...]
#
# Passes only when the program exits with a non-zero code (a crash does not count) and
# its output (stdout and stderr) matches <regex>. CTest's WILL_FAIL accepts any failure,
# and PASS_REGULAR_EXPRESSION ignores the exit code; a check that must fail needs both.
if(NOT DEFINED expected_output OR expected_output STREQUAL "")
  message(FATAL_ERROR "expect_failure.cmake: set -Dexpected_output=<regex>")
endif()

# The program and its arguments follow the script's path.
set(command)
set(after_script FALSE)
math(EXPR last_argument "${CMAKE_ARGC} - 1")
foreach(index RANGE 1 ${last_argument})
  set(argument "${CMAKE_ARGV${index}}")
  if(after_script)
    list(APPEND command "${argument}")
  elseif(argument STREQUAL "-P")
    math(EXPR script_index "${index} + 1")
  elseif(DEFINED script_index AND index EQUAL script_index)
    set(after_script TRUE)
  endif()
endforeach()
if(NOT command)
  message(FATAL_ERROR "expect_failure.cmake: no program given after the script")
endif()

execute_process(COMMAND ${command} RESULT_VARIABLE exit_code OUTPUT_VARIABLE output
                ERROR_VARIABLE output)
message("${output}")
if(NOT exit_code MATCHES "^[0-9]+$")
  message(FATAL_ERROR "expected a failing exit code, but the program ended with: ${exit_code}")
endif()
if(exit_code EQUAL 0)
  message(FATAL_ERROR "expected a failure, but the program exited with 0")
endif()
if(NOT output MATCHES "${expected_output}")
  message(FATAL_ERROR "exit code ${exit_code} as expected, but the output does not match: ${expected_output}")
endif()
message("failed as expected (exit code ${exit_code}, output matches)")
