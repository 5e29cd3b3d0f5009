#!/usr/bin/env bash
# Conformance of the stand-in server, as an outside tool sees it: Schemathesis runs the
# OpenAPI document Tests/conformance/openapi.yaml (written from the vendor's docs, not
# from the server) against membrane-mock.
#
#   main      with the token, every Schemathesis check (--checks all), all phases
#             (examples, coverage, fuzzing, stateful), CONFORMANCE_EXAMPLES cases per
#             operation and phase (default 50), seed CONFORMANCE_SEED (default 1).
#             One suite check per (operation, Schemathesis check) pair that ran, plus:
#             each operation answered 200 at least once, and no errors.
#   no-token  without the token: every answer to a documented GET must be the documented
#             401 not_authenticated, and Schemathesis must find nothing (unsupported_method
#             is left to the main run, so a finding there is counted once).
#   control   a copy of the document with the integration's name typed as integer: the
#             suite must see response_schema_conformance fail on both operations, or it
#             could not notice a wrong schema at all.
#
# Tests/conformance/hooks.py drops one kind of failure only (a cursor the server never
# issued, refused with 400 invalid_cursor): see there why. Reports, logs and Schemathesis'
# own files go to .build/conformance. The stand-in is ${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}.
# Last line: "conformance: N passed, M failed"; exit status 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/Tests/conformance
out=$root/.build/conformance
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
PYTHON=${PYTHON:-python3}
EXAMPLES=${CONFORMANCE_EXAMPLES:-50}
SEED=${CONFORMANCE_SEED:-1}

# shellcheck source=../lib/mock.sh
source Tests/lib/mock.sh

rm -rf "$out"
mkdir -p "$out/work"
trap stop_mock EXIT

passed=0
failed=0
fail_setup() {
    echo "FAIL: $1"
    echo "conformance: $passed passed, $((failed + 1)) failed"
    exit 1
}

[ -x "$MOCK" ] || fail_setup "no stand-in server at $MOCK (make mock)"
"$PYTHON" -c 'import schemathesis' 2>/dev/null || fail_setup "Schemathesis is not installed for $PYTHON (make test-deps)"
version=$("$PYTHON" -c 'import schemathesis; print(schemathesis.__version__)' 2>/dev/null || echo '?')
start_mock "$MOCK" "$out" || fail_setup "the stand-in server did not start"
echo "stand-in: $MOCK at $URL; Schemathesis $version; seed $SEED; $EXAMPLES examples per operation and phase"

# schemathesis RUN SCHEMA [options...]: one run, from $out/work (where Schemathesis keeps
# its own files), reports in $out/RUN.json and $out/RUN.ndjson, output in $out/RUN.log
# and on stdout. The token is passed, never echoed (Schemathesis prints it as [Filtered]).
schemathesis() {
    local run=$1 schema=$2; shift 2
    echo
    echo "=== $run: schemathesis run $(basename "$schema") --url $URL $*"
    (cd "$out/work" && CONFORMANCE_TALLY="$out/$run.tally" SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" \
        timeout 300 "$PYTHON" -m schemathesis.cli --config-file "$here/schemathesis.toml" \
        run "$schema" --url "$URL" --seed "$SEED" --workers 1 --request-timeout 5 \
        --continue-on-failure --generation-database none --no-color \
        --report json,ndjson --report-json-path "$out/$run.json" --report-ndjson-path "$out/$run.ndjson" \
        "${auth[@]}" "$@") >"$out/$run.log" 2>&1
    local rc=$?
    cat "$out/$run.log"
    echo "(schemathesis exit status $rc)"
}

# summarize RUN KIND: the suite's checks for one run, added to the totals.
summarize() {
    local run=$1 kind=$2 line p f
    echo
    echo "=== $run: figures and checks"
    if [ ! -s "$out/$run.json" ] || [ ! -s "$out/$run.ndjson" ]; then
        echo "FAIL: $run: Schemathesis wrote no report"
        failed=$((failed + 1))
        return
    fi
    "$PYTHON" "$here/summarize.py" "$kind" "$out/$run.json" "$out/$run.ndjson" | tee "$out/$run.summary"
    line=$(tail -n 1 "$out/$run.summary")
    p=$(echo "$line" | sed -n 's/^checks: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$line" | sed -n 's/^checks: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "FAIL: $run: the summary did not finish"
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

auth=(-H "Authorization: Bearer mock-token")
schemathesis main "$here/openapi.yaml" --checks all --max-examples "$EXAMPLES"
summarize main main

auth=()
schemathesis no-token "$here/openapi.yaml" --checks all --exclude-checks unsupported_method \
    --max-examples "$(( EXAMPLES / 4 + 1 ))"
summarize no-token no-token

# The control: the same document with Integration.name typed as integer.
auth=(-H "Authorization: Bearer mock-token")
wrong=$out/openapi-wrong-name.yaml
"$PYTHON" - "$here/openapi.yaml" "$wrong" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
old = 'name: { type: string, description: "display name; always present [oas]" }'
assert text.count(old) == 1, "the control cannot find Integration.name in openapi.yaml"
open(sys.argv[2], "w", encoding="utf-8").write(text.replace(old, old.replace("type: string", "type: integer")))
EOF
if [ -s "$wrong" ]; then
    schemathesis control "$wrong" --checks response_schema_conformance --mode positive \
        --phases examples,fuzzing --max-examples 10
    summarize control control
else
    echo "FAIL: control: could not write the wrong document"
    failed=$((failed + 1))
fi

stop_mock
echo
echo "conformance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
