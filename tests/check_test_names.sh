#!/bin/sh
# Fails when a doctest case name holds a ';': CTest splits test names there (CMake's list
# separator), so such a case would be registered as two names that match nothing and
# silently never run. Run from tests/.
if grep -rnE -A1 'TEST_CASE[(]' --include='*.cpp' . | grep -E '"[^"]*;[^"]*"'; then
  echo "test names must not contain ';' (CTest would never run them)" >&2
  exit 1
fi
