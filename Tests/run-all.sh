#!/usr/bin/env bash
# Tests/run-all.sh [NAME...]: runs the suites listed in Tests/suites (all of
# them, or those named), each even after another failed, then prints a table
# of counts and one closing line: "total: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
logs=.build/test-logs
mkdir -p "$logs"
total_passed=0
total_failed=0
status=0
summary=()

count() { grep -oE "$1" "$2" | tail -n 1 | grep -oE '[0-9]+' | head -n 1; }

# suite NAME REPORT COMMAND...
suite() {
  local name=$1 report=$2; shift 2
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log"
  local rc=${PIPESTATUS[0]} passed failed
  case $report in
    swift)
      local ran; ran=$(count 'Test run with [0-9]+ tests?' "$logs/$name.log")
      failed=$(grep -cE '✘ Test .* (failed|recorded an issue)' "$logs/$name.log")
      [ -n "$ran" ] && passed=$((ran - failed))
      # Any ThreadSanitizer report fails the suite, whatever the tests said.
      if grep -q 'WARNING: ThreadSanitizer' "$logs/$name.log"; then rc=1; fi ;;
    fuzz)
      # libFuzzer exits non-zero on a crash, a leak or a timeout; a clean run is one check.
      if [ "$rc" -eq 0 ] && grep -qE '^Done [0-9]+ runs' "$logs/$name.log"; then passed=1; else failed=1; fi ;;
    pytest)
      passed=$(count '[0-9]+ passed' "$logs/$name.log")
      local failures errors
      failures=$(count '[0-9]+ failed' "$logs/$name.log")
      errors=$(count '[0-9]+ errors?' "$logs/$name.log")
      failed=$(( ${failures:-0} + ${errors:-0} )) ;;
    counts)
      passed=$(count '^[^ ]*:? ?[0-9]+ passed, [0-9]+ failed' "$logs/$name.log")
      failed=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$logs/$name.log" | tail -n 1 | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+') ;;
    *)
      echo "run-all.sh: suite $name has an unknown report kind '$report'" >&2
      rc=1 ;;
  esac
  passed=${passed:-0}; failed=${failed:-0}
  if [ "$rc" -ne 0 ]; then
    status=1
    [ "$failed" -eq 0 ] && failed=1   # a suite that died still counts as failing
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summary+=("$(printf '%-12s %5d passed %5d failed   (exit %d)' "$name" "$passed" "$failed" "$rc")")
}

wanted=" $* "
found=0
while read -r name report command; do
  case $name in ''|'#'*) continue ;; esac
  if [ $# -gt 0 ] && [[ "$wanted" != *" $name "* ]]; then continue; fi
  found=$((found + 1))
  # shellcheck disable=SC2086  # the command is words from Tests/suites
  suite "$name" "$report" $command
done < Tests/suites
if [ "$found" -eq 0 ]; then
  echo "run-all.sh: no suite named: $*; see Tests/suites" >&2
  exit 2
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "total: $total_passed passed, $total_failed failed"
exit $status
