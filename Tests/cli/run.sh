#!/usr/bin/env bash
# Tests/cli/run.sh: the membrane-get example (examples/c/membrane-get.c) as a
# command-line user meets it: built with the README's compile line, run
# against the stand-in server, each exit code and message checked (one check
# per expectation). Prints "N passed, M failed"; exits non-zero on failure.
#
# Environment:
#   MEMBRANE_LIB_DIR  folder holding libmembrane.so   (default .build/release)
#   MEMBRANE_MOCK     the stand-in server's binary     (default .build/mock/debug/membrane-mock)
#   CC                the C compiler                   (default cc)
set -u

cd "$(dirname "$0")/../.." || exit 2
LIB_DIR=${MEMBRANE_LIB_DIR:-.build/release}
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
CC=${CC:-cc}
OUT=.build-cli
TOKEN=mock-token
# shellcheck source=Tests/lib/checks.sh
. Tests/lib/checks.sh
# shellcheck source=Tests/lib/mock.sh
. Tests/lib/mock.sh
trap stop_mock EXIT
trap 'exit 130' INT TERM

rm -rf "$OUT"
mkdir -p "$OUT"
if [ ! -e "$LIB_DIR/libmembrane.so.0" ]; then
    fail "$LIB_DIR/libmembrane.so.0 exists (make library makes it)"
    summary_and_exit
fi
RPATHS="-Wl,-rpath,$(cd "$LIB_DIR" && pwd)"
if ! start_mock "$MOCK" "$OUT"; then
    fail "the stand-in server starts ($MOCK)"
    summary_and_exit
fi
unset MEMBRANE_TOKEN MEMBRANE_API_URL

admin() { # admin METHOD PATH [JSON]
    if [ $# -ge 3 ]; then
        curl -s -o /dev/null -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
            --data "$3" "$URL$2"
    else
        curl -s -o /dev/null -w '%{http_code}' -X "$1" "$URL$2"
    fi
}

GET="$OUT/membrane-get"
# The compile line of examples/c/README.md (plus our SONAME link, if any).
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -Werror -I Include examples/c/membrane-get.c \
    -L "$LIB_DIR" -lmembrane -ljansson $RPATHS -o "$GET" 2>"$OUT/membrane-get.build.log"; then
    pass "membrane-get: compiles with -std=c99 -Wall -Wextra -Werror"
else
    cat "$OUT/membrane-get.build.log"
    fail "membrane-get: compiles"
    GET=
fi

# expect_get DESCRIPTION WANT_STATUS [ENV=VALUE ...] -- ARGS...: runs
# membrane-get with MEMBRANE_TOKEN=mock-token unless overridden; leaves
# stdout/stderr in $OUT/get.stdout, $OUT/get.stderr; checks the status and,
# for failures, that stderr starts with "membrane-get: ".
expect_get() {
    local what=$1 want=$2 status
    shift 2
    local envs=(MEMBRANE_TOKEN=$TOKEN)
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        if [ "$1" = "-u" ]; then # -u NAME: run without NAME (and without the default token)
            envs=(-u "$2")
            shift 2
            continue
        fi
        envs+=("$1")
        shift
    done
    shift
    env "${envs[@]}" timeout 60 "$GET" "$@" >"$OUT/get.stdout" 2>"$OUT/get.stderr"
    status=$?
    if [ "$status" -ne "$want" ]; then
        fail "membrane-get $what: exit $status, want $want ($(head -c 300 "$OUT/get.stderr"))"
        return 1
    fi
    if [ "$want" -ne 0 ]; then
        if [ "$(head -c 14 "$OUT/get.stderr")" != "membrane-get: " ]; then
            fail "membrane-get $what: stderr does not start with 'membrane-get: ': $(head -c 200 "$OUT/get.stderr")"
            return 1
        fi
        if [ -s "$OUT/get.stdout" ]; then
            fail "membrane-get $what: printed to stdout on failure"
            return 1
        fi
    fi
    pass "membrane-get $what: exit $want"
    return 0
}

with_fault() { # with_fault JSON: installs one fault for the next request
    admin DELETE /_mock/faults >/dev/null
    local code
    code=$(admin POST /_mock/faults "$1")
    case "$code" in 2*) ;; *) echo "run.sh: installing fault $1 answered $code" >&2 ;; esac
}

if [ -n "$GET" ]; then
    ID=67c05c5f0872bad5078153b9

    if expect_get "--help" 0 -- --help; then
        missing=
        for code in 0 2 3 4 5 6 7 8 9 10 11 12 13 14; do
            grep -Eq "^ *$code[ :]" "$OUT/get.stdout" || missing="$missing $code"
        done
        if [ -z "$missing" ] && grep -q 'usage: membrane-get' "$OUT/get.stdout"; then
            pass "membrane-get --help: usage and every exit code listed"
        else
            fail "membrane-get --help: codes not listed:$missing"
        fi
    fi

    if expect_get "by id" 0 -- --api-url "$URL" "$ID"; then
        if grep -q "^  \"id\": \"$ID\"" "$OUT/get.stdout"; then
            pass "membrane-get by id: prints the integration with that id, indented by 2"
        else
            fail "membrane-get by id: no '  \"id\": \"$ID\"' line in: $(head -c 300 "$OUT/get.stdout")"
        fi
        if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if isinstance(d, dict) and d.get("id")==sys.argv[2] else 1)' \
            "$OUT/get.stdout" "$ID" 2>/dev/null; then
            pass "membrane-get by id: stdout is one JSON object"
        elif ! command -v python3 >/dev/null; then
            echo "      (python3 missing: JSON validity of stdout not checked)"
        else
            fail "membrane-get by id: stdout is not a JSON object with that id"
        fi
    fi

    if expect_get "with MEMBRANE_API_URL" 0 MEMBRANE_API_URL="$URL" -- hubspot; then
        if grep -q '"key": "hubspot"' "$OUT/get.stdout"; then
            pass "membrane-get with MEMBRANE_API_URL: the right integration"
        else
            fail "membrane-get with MEMBRANE_API_URL: no '\"key\": \"hubspot\"' in output"
        fi
        if grep -q 'hubspot-client-secret-456' "$OUT/get.stdout"; then
            fail "membrane-get without --include-secrets: the secret is in the output"
        else
            pass "membrane-get without --include-secrets: secret masked"
        fi
    fi

    if expect_get "--include-secrets" 0 -- --include-secrets --api-url="$URL" hubspot; then
        if grep -q '"clientSecret": "hubspot-client-secret-456"' "$OUT/get.stdout"; then
            pass "membrane-get --include-secrets: the secret is shown"
        else
            fail "membrane-get --include-secrets: no clientSecret in output"
        fi
    fi

    expect_get "catalog key" 0 -- --api-url "$URL" '~search.membrane--getmembrane_com' &&
        { grep -q '"key": "~search.membrane--getmembrane_com"' "$OUT/get.stdout" &&
            pass "membrane-get catalog key: the right integration" ||
            fail "membrane-get catalog key: wrong output"; }

    expect_get "not found" 5 -- --api-url "$URL" no-such-integration
    expect_get "no token" 3 MEMBRANE_TOKEN= -- --api-url "$URL" hubspot
    # (MEMBRANE_TOKEN= sets it empty; also with it really unset:)
    expect_get "token unset" 3 -u MEMBRANE_TOKEN -- --api-url "$URL" hubspot
    if expect_get "wrong token" 3 MEMBRANE_TOKEN=wrong-token-sh-91c2 -- --api-url "$URL" hubspot; then
        if grep -q '91c2' "$OUT/get.stderr"; then
            fail "membrane-get wrong token: the token is in the message"
        else
            pass "membrane-get wrong token: the token is not in the message"
        fi
    fi
    expect_get "without a selector" 2 -- --api-url "$URL"
    expect_get "with two selectors" 2 -- --api-url "$URL" a b
    expect_get "with an unknown option" 2 -- --api-url "$URL" --frobnicate hubspot
    expect_get "with an empty selector" 2 -- --api-url "$URL" ""
    expect_get "with an ftp:// URL" 2 -- --api-url ftp://x hubspot

    with_fault '{"match":"hubspot","status":403}'
    expect_get "on 403" 4 -- --api-url "$URL" hubspot
    # Retryable faults stay for every attempt (times 0): the library retries
    # a 429, 502-504 or a dropped connection, and membrane-get keeps the
    # default retries.
    with_fault '{"match":"hubspot","status":429,"times":0}'
    expect_get "on 429" 6 -- --api-url "$URL" hubspot
    with_fault '{"match":"hubspot","status":400}'
    expect_get "on 400" 7 -- --api-url "$URL" hubspot
    with_fault '{"match":"hubspot","status":500,"json":{"type":"internal","key":"internal_error","message":"boom","data":{"errorId":"err-sh-1"}}}'
    if expect_get "on 500" 8 -- --api-url "$URL" hubspot; then
        if grep -q 'error id: err-sh-1' "$OUT/get.stderr"; then
            pass "membrane-get on 500: prints the error id"
        else
            fail "membrane-get on 500: no 'error id: err-sh-1' in: $(head -c 300 "$OUT/get.stderr")"
        fi
    fi
    with_fault '{"match":"hubspot","action":"truncate"}'
    expect_get "on a truncated body" 12 -- --api-url "$URL" hubspot
    with_fault '{"match":"hubspot","action":"drop","times":0}'
    expect_get "on a dropped connection" 9 -- --api-url "$URL" hubspot
    admin DELETE /_mock/faults >/dev/null
    expect_get "on a refused connection" 9 -- --api-url http://127.0.0.1:1 hubspot

    # https:// against the plain HTTP port: TLS error (or network error).
    env MEMBRANE_TOKEN=$TOKEN timeout 60 "$GET" --api-url "https://${URL#http://}" hubspot \
        >"$OUT/get.stdout" 2>"$OUT/get.stderr"
    status=$?
    case "$status" in
        11 | 9) pass "membrane-get https:// to a plain HTTP port: exit $status" ;;
        *) fail "membrane-get https:// to a plain HTTP port: exit $status, want 11 (or 9)" ;;
    esac
fi

stop_mock
summary_and_exit
