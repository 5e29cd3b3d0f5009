#!/usr/bin/env bash
# Tests/c/run.sh: builds the C tests against Include/membrane.h and the built
# libmembrane.so, starts the stand-in server, runs every test program (then
# again under valgrind), and prints one summary
# line `N passed, M failed`. Exits non-zero on any failure.
#
# Environment:
#   MEMBRANE_LIB_DIR  folder holding libmembrane.so   (default .build/release)
#   MEMBRANE_MOCK     the stand-in server's binary     (default .build/mock/debug/membrane-mock)
#   MEMBRANE_VALGRIND 0 skips the valgrind runs        (default 1)
#   CC                the C compiler                   (default cc)
#   MEMBRANE_C_PROGRAMS  which test programs to run   (default: all of them)
#   MEMBRANE_TIME_SCALE  multiplies the timing tests' upper bounds in the
#                     plain runs (default 1); the valgrind runs use 4 times it
#   MEMBRANE_THREAD_LOOKUPS  lookups per thread in test_threads' plain run
#                     (default 5000, 8 threads); the valgrind run uses 200
#   MEMBRANE_ASYNC_COUNT  lookups in test_async's exactly-once part in the
#                     plain run (default 10000); the valgrind run uses 300
#
# Counting: every CHECK of every test program's plain run; one check per
# valgrind run (clean: exit 0, no errors, no definitely-lost bytes, and all of
# its own checks passed). The membrane-get example has its own suite, Tests/cli.
set -u

cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
LIB_DIR=${MEMBRANE_LIB_DIR:-.build/release}
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
USE_VALGRIND=${MEMBRANE_VALGRIND:-1}
CC=${CC:-cc}
OUT=${MEMBRANE_CTEST_DIR:-.build-ctest}
TOKEN=mock-token
PROGRAMS=${MEMBRANE_C_PROGRAMS:-"test_api test_lookup test_text test_errors test_threads test_faults test_cancel test_sharing test_batch test_listing test_logging test_tokens test_async"}
# test_faults writes its table here (the valgrind run: fault-matrix-c.valgrind.txt).
LOG_DIR=.build/test-logs

# shellcheck source=Tests/lib/mock.sh
. Tests/lib/mock.sh

. Tests/lib/checks.sh

trap stop_mock EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# What we need
# ---------------------------------------------------------------------------
if [ ! -f "$LIB_DIR/libmembrane.so" ]; then
    echo "run.sh: no $LIB_DIR/libmembrane.so (build it, or set MEMBRANE_LIB_DIR)" >&2
    fail "library present"
    summary_and_exit
fi
if [ ! -x "$MOCK" ]; then
    echo "run.sh: no $MOCK (build membrane-mock, or set MEMBRANE_MOCK)" >&2
    fail "stand-in server present"
    summary_and_exit
fi
LIB_ABS=$(cd "$LIB_DIR" && pwd)
rm -rf "$OUT"
mkdir -p "$OUT"

# The loader looks for the SONAME, libmembrane.so.0: `make library` makes that
# link beside the library (the only place it is made).
RPATHS="-Wl,-rpath,$LIB_ABS"
if [ ! -e "$LIB_ABS/libmembrane.so.0" ]; then
    fail "$LIB_DIR/libmembrane.so.0 exists (make library makes it)"
    summary_and_exit
fi

# ---------------------------------------------------------------------------
# The stand-in server
# ---------------------------------------------------------------------------
# Workspace credentials the stand-in verifies signed tokens with (test_tokens):
# a random secret, and an EC P-256 key pair made here.
WORKSPACE_KEY=wk-ctest
WORKSPACE_SECRET=$(openssl rand -hex 32)
openssl ecparam -name prime256v1 -genkey -noout -out "$OUT/ec-private.pem" 2>/dev/null &&
    openssl ec -in "$OUT/ec-private.pem" -pubout -out "$OUT/ec-public.pem" 2>/dev/null ||
    fail "openssl makes an EC P-256 key pair"
export MEMBRANE_TEST_WORKSPACE_KEY=$WORKSPACE_KEY MEMBRANE_TEST_WORKSPACE_SECRET=$WORKSPACE_SECRET
export MEMBRANE_TEST_EC_KEY=$ROOT/$OUT/ec-private.pem
if start_mock "$MOCK" "$OUT" --workspace-key "$WORKSPACE_KEY" --workspace-secret "$WORKSPACE_SECRET" \
    --public-key "$OUT/ec-public.pem"; then
    pass "stand-in server listening on $URL"
else
    fail "stand-in server announced its URL within 30 s (stdout: $(head -c 200 "$OUT/mock.stdout"))"
    summary_and_exit
fi
export MEMBRANE_TEST_URL=$URL
unset MEMBRANE_TOKEN MEMBRANE_API_URL

# ---------------------------------------------------------------------------
# Build the tests
# ---------------------------------------------------------------------------
CFLAGS="-std=c99 -Wall -Wextra -Werror -g -I Include -I Tests/c"
built=
for p in $PROGRAMS; do
    # shellcheck disable=SC2086
    if $CC $CFLAGS -pthread -o "$OUT/$p" "Tests/c/$p.c" Tests/c/mock_admin.c \
        -L "$LIB_DIR" -lmembrane -ljansson -lcurl -lcrypto $RPATHS 2>"$OUT/$p.build.log"; then
        built="$built $p"
    else
        cat "$OUT/$p.build.log"
        fail "$p: compile"
    fi
done

# ---------------------------------------------------------------------------
# Run them
# ---------------------------------------------------------------------------
# run_program NAME LOG_PREFIX COMMAND...: runs, prints stderr on failure,
# sets RUN_STATUS, RUN_PASSED, RUN_FAILED (-1 when no summary line).
run_program() {
    local name=$1 log=$2
    shift 2
    "$@" >"$log.stdout" 2>"$log.stderr"
    RUN_STATUS=$?
    local last
    last=$(tail -n 1 "$log.stdout")
    if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        RUN_PASSED=${BASH_REMATCH[1]}
        RUN_FAILED=${BASH_REMATCH[2]}
    else
        RUN_PASSED=0
        RUN_FAILED=-1
    fi
    if [ "$RUN_STATUS" -ne 0 ] || [ "$RUN_FAILED" -ne 0 ]; then
        echo "---- $name (exit $RUN_STATUS) stderr:"
        sed 's/^/    /' "$log.stderr" | tail -n 60
        echo "----"
    fi
}

mkdir -p "$LOG_DIR"
TIME_SCALE=${MEMBRANE_TIME_SCALE:-1}
for p in $built; do
    run_program "$p" "$OUT/$p" timeout 600 \
        env MEMBRANE_TIME_SCALE="$TIME_SCALE" MEMBRANE_FAULT_MATRIX="$LOG_DIR/fault-matrix-c.txt" \
        MEMBRANE_THREAD_LOOKUPS="${MEMBRANE_THREAD_LOOKUPS:-5000}" \
        MEMBRANE_ASYNC_COUNT="${MEMBRANE_ASYNC_COUNT:-10000}" \
        "$OUT/$p"
    if [ "$RUN_FAILED" -lt 0 ]; then
        fail "$p: no summary line (exit $RUN_STATUS)"
    else
        passed=$((passed + RUN_PASSED))
        failed=$((failed + RUN_FAILED))
        if [ "$RUN_STATUS" -ne 0 ] && [ "$RUN_FAILED" -eq 0 ]; then
            fail "$p: exit $RUN_STATUS with no failed check"
        fi
        echo "      $p: $RUN_PASSED passed, $RUN_FAILED failed"
    fi
    grep -h '^note:' "$OUT/$p.stderr" | sed 's/^/      /'
    if [ "$p" = test_faults ] && [ -f "$LOG_DIR/fault-matrix-c.txt" ]; then
        sed 's/^/      /' "$LOG_DIR/fault-matrix-c.txt"
    fi
done

if [ "$USE_VALGRIND" != 0 ]; then
    if ! command -v valgrind >/dev/null; then
        fail "valgrind installed"
    else
        for p in $built; do
            # Timing bounds are relaxed (valgrind slows everything down); what
            # must hold: no errors, no definitely-lost bytes, all checks pass.
            run_program "$p (valgrind)" "$OUT/$p.valgrind" timeout 1800 \
                env MEMBRANE_TIME_SCALE=$((TIME_SCALE * 4)) \
                MEMBRANE_FAULT_MATRIX="$LOG_DIR/fault-matrix-c.valgrind.txt" \
                MEMBRANE_THREAD_LOOKUPS=200 MEMBRANE_TOKEN_SOAK_MS=3000 MEMBRANE_ASYNC_COUNT=300 \
                valgrind --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite --log-file="$OUT/$p.valgrind.log" \
                "$OUT/$p"
            if [ "$RUN_STATUS" -eq 0 ] && [ "$RUN_FAILED" -eq 0 ]; then
                pass "$p under valgrind: clean ($RUN_PASSED checks passed)"
            else
                fail "$p under valgrind: exit $RUN_STATUS, $RUN_FAILED failed checks (log: $OUT/$p.valgrind.log)"
                grep -E 'ERROR SUMMARY|definitely lost:|Invalid (read|write|free)|uninitialised|Mismatched' \
                    "$OUT/$p.valgrind.log" | head -n 20 | sed 's/^/      /'
            fi
        done
    fi
fi

# No secret and no token in anything the programs or the stand-in printed
# (the valgrind logs included): the workspace secret of this run, and the
# start of every JWT header ({"alg":...} in base64url).
leaks=$(grep -l -e "$WORKSPACE_SECRET" -e 'eyJhbGci' "$OUT"/*.stdout "$OUT"/*.stderr "$OUT"/*.log 2>/dev/null)
if [ -z "$leaks" ]; then
    pass "no workspace secret or token in any output ($(ls "$OUT"/*.stdout "$OUT"/*.stderr "$OUT"/*.log 2>/dev/null | wc -l) files)"
else
    fail "a workspace secret or token appears in: $leaks"
fi

stop_mock
summary_and_exit
