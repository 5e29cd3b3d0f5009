#!/usr/bin/env bash
# make demo: starts the stand-in server with the default fixtures, looks
# integrations up with the C and the Python example, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

demo() {
  export MEMBRANE_API_URL=$MEMBRANE_MOCK_URL MEMBRANE_TOKEN=mock-token
  echo "stand-in server at $MEMBRANE_API_URL"
  show() { echo; echo "\$ $*"; "$@" || echo "(exit code $?)"; }
  show .build/examples/membrane-get hubspot
  show .build/examples/membrane-get '~search.membrane--getmembrane_com'
  show python3 examples/python/lookup.py --include-secrets 67c05c5f0872bad5078153b9
  show python3 examples/python/lookup.py salesforce
  show .build/examples/membrane-status hubspot salesforce pipedrive zendesk google-sheets no-such-integration
  show .build/examples/membrane-get no-such-integration
}
export -f demo
bash Tests/with-mock.sh bash -c demo
