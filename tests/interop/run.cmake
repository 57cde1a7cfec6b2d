# The interop test's driver (cmake -P): dumps the SDK's envelopes into a fresh OUTPUT
# directory with DUMP, then checks them with `NODE CHECK OUTPUT`; fails if either fails.
foreach(variable DUMP NODE CHECK OUTPUT)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "run.cmake: -D${variable}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUTPUT}")
file(MAKE_DIRECTORY "${OUTPUT}")
execute_process(COMMAND "${DUMP}" "${OUTPUT}" RESULT_VARIABLE dumped)
if(NOT dumped EQUAL 0)
  message(FATAL_ERROR "warden_envelope_dump failed (${dumped})")
endif()
execute_process(COMMAND "${NODE}" "${CHECK}" "${OUTPUT}" RESULT_VARIABLE checked)
if(NOT checked EQUAL 0)
  message(FATAL_ERROR "check_envelopes.mjs failed (${checked}); the envelopes are in ${OUTPUT}")
endif()
