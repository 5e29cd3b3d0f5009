#!/usr/bin/env bash
# Runs a command with the stand-in server up: starts membrane-mock on a free
# port with the default fixtures, exports its address as MEMBRANE_MOCK_URL,
# runs "$@", and stops the server whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=Tests/lib/mock.sh
. Tests/lib/mock.sh
dir=$(mktemp -d)
trap 'stop_mock; rm -rf "$dir"' EXIT
start_mock "${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}" "$dir" || exit 1
export MEMBRANE_MOCK_URL=$URL
"$@"
