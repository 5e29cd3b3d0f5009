#!/usr/bin/env bash
# Runs every suite (Swift, C, Python, library shape, FFIs, SQLite), even after one fails,
# prints a table of counts and one closing line: "total: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
logs=.build/test-logs
mkdir -p "$logs"
total_passed=0
total_failed=0
status=0
summary=()

count() { grep -oE "$1" "$2" | tail -n 1 | grep -oE '[0-9]+' | head -n 1; }

suite() {
  local name=$1; shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log"
  local rc=${PIPESTATUS[0]} passed failed
  case $name in
    swift|tsan)
      local ran; ran=$(count 'Test run with [0-9]+ tests?' "$logs/$name.log")
      failed=$(grep -cE '✘ Test .* (failed|recorded an issue)' "$logs/$name.log")
      [ -n "$ran" ] && passed=$((ran - failed))
      # Any ThreadSanitizer report fails the suite, whatever the tests said.
      if grep -q 'WARNING: ThreadSanitizer' "$logs/$name.log"; then rc=1; fi ;;
    fuzz)
      # libFuzzer exits non-zero on a crash, a leak or a timeout; a clean run is one check.
      if [ "$rc" -eq 0 ] && grep -qE '^Done [0-9]+ runs' "$logs/$name.log"; then passed=1; else failed=1; fi ;;
    python)
      passed=$(count '[0-9]+ passed' "$logs/$name.log")
      local failures errors
      failures=$(count '[0-9]+ failed' "$logs/$name.log")
      errors=$(count '[0-9]+ errors?' "$logs/$name.log")
      failed=$(( ${failures:-0} + ${errors:-0} )) ;;
    *)
      passed=$(count '^[^ ]*:? ?[0-9]+ passed, [0-9]+ failed' "$logs/$name.log")
      failed=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$logs/$name.log" | tail -n 1 | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+') ;;
  esac
  passed=${passed:-0}; failed=${failed:-0}
  if [ "$rc" -ne 0 ]; then
    status=1
    [ "$failed" -eq 0 ] && failed=1   # a suite that died still counts as failing
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summary+=("$(printf '%-8s %5d passed %5d failed   (exit %d)' "$name" "$passed" "$failed" "$rc")")
}

suite swift bash Tests/with-mock.sh swift test
suite c bash Tests/c/run.sh
suite python python3 -m pytest -q Tests/python
suite tsan make --no-print-directory test-tsan
suite threadcheck bash Tests/threadcheck/run.sh
suite fuzz make --no-print-directory fuzz FUZZ_SECONDS=30
suite install bash Tests/install/run.sh
suite shape bash Tests/shape.sh .build/release/libmembrane.so
suite ffi bash Tests/ffi/run.sh
suite sqlite bash Tests/sqlite/run.sh

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "total: $total_passed passed, $total_failed failed"
exit $status
