#!/usr/bin/env bash
# Runs a command with the stand-in server up: starts membrane-mock on a free
# port with the default fixtures, exports its address as MEMBRANE_MOCK_URL,
# runs "$@", and stops the server whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
mock=${MEMBRANE_MOCK:-.build/debug/membrane-mock}
out=$(mktemp)
"$mock" --port 0 --token mock-token --fixtures examples/fixtures/integrations.json >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do
  line=$(head -n 1 "$out")
  [ -n "$line" ] && break
  kill -0 $pid 2>/dev/null || { echo "membrane-mock exited early" >&2; exit 1; }
  sleep 0.1
done
MEMBRANE_MOCK_URL=${line##* }
case "$MEMBRANE_MOCK_URL" in http://*) ;; *) echo "membrane-mock said: $line" >&2; exit 1 ;; esac
export MEMBRANE_MOCK_URL
"$@"
