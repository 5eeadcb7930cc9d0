#!/usr/bin/env bats
# unit.bats: the library's own unit tests (info block, SNI selection, environment).

@test "library unit tests" {
  run "$UST_HELPERS/unit-lib"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"all unit tests passed"* ]]
}
