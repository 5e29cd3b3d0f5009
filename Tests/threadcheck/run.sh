#!/usr/bin/env bash
# Tests/threadcheck/run.sh: 16 threads make their first lookups at once
# through one fresh client (first_lookups.c), under valgrind's helgrind and
# DRD, with only the suppressions we install for hosts (packaging/membrane.supp,
# none of them for libmembrane's own code). Each tool must report 0 errors:
# the library's one-time set-up happens in membrane_client_new, before any
# client can be shared (Sources/MembraneC/Rehearsal.swift), and libcurl
# handles are created under a mutex the tools can see.
# Prints one line per check and "N passed, M failed".
#
# Environment: MEMBRANE_LIB_DIR (default .build/release), MEMBRANE_MOCK
# (default .build/mock/debug/membrane-mock), CC (default cc).
set -u

cd "$(dirname "$0")/../.." || exit 2
LIB_DIR=${MEMBRANE_LIB_DIR:-.build/release}
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
CC=${CC:-cc}
OUT=.build-threadcheck
SUPPRESSIONS=packaging/membrane.supp
# shellcheck source=Tests/lib/mock.sh
. Tests/lib/mock.sh

. Tests/lib/checks.sh
trap stop_mock EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
if ! command -v valgrind >/dev/null; then
    fail "valgrind is installed (make test-deps installs it)"
    summary_and_exit
fi

# The suppressions must not hide anything of ours.
if grep -vE '^\s*#' "$SUPPRESSIONS" | grep -qi 'membrane'; then
    fail "no suppression names libmembrane"
else
    pass "no suppression names libmembrane"
fi

if $CC -std=c99 -g -Wall -Wextra -Werror -IInclude Tests/threadcheck/first_lookups.c \
        -L"$LIB_DIR" -lmembrane -ljansson -lpthread -Wl,-rpath,"$(cd "$LIB_DIR" && pwd)" \
        -o "$OUT/first_lookups"; then
    pass "first_lookups.c builds"
else
    fail "first_lookups.c builds"
    summary_and_exit
fi

# Control: the suppressed reports come from libcurl's dependencies alone, so a
# program that only creates a libcurl handle gets them too.
printf '#include <curl/curl.h>\nint main(void) { CURL *h = curl_easy_init(); curl_easy_cleanup(h); return 0; }\n' \
    > "$OUT/curl_only.c"
if $CC "$OUT/curl_only.c" -lcurl -o "$OUT/curl_only"; then
    valgrind --tool=helgrind "$OUT/curl_only" > "$OUT/curl_only.helgrind" 2>&1
    plain=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$OUT/curl_only.helgrind" | grep -oE '[0-9]+$')
    valgrind --tool=helgrind --suppressions="$SUPPRESSIONS" "$OUT/curl_only" > "$OUT/curl_only.helgrind.supp" 2>&1
    kept=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$OUT/curl_only.helgrind.supp" | grep -oE '[0-9]+$')
    echo "      a libcurl-only program under helgrind: ${plain:-?} errors, ${kept:-?} with the suppressions"
    if [ "${kept:-1}" -eq 0 ]; then
        pass "the suppressions cover what libcurl alone reports"
    else
        fail "the suppressions cover what libcurl alone reports (see $OUT/curl_only.helgrind.supp)"
    fi
else
    fail "a libcurl-only control program builds"
fi

if ! start_mock "$MOCK" "$OUT"; then
    fail "the stand-in server starts"
    summary_and_exit
fi

if "$OUT/first_lookups" "$URL" 4 > "$OUT/plain.out" 2>&1; then
    pass "16 threads' first lookups succeed ($(tail -n 1 "$OUT/plain.out"))"
else
    fail "16 threads' first lookups succeed: $(tail -n 3 "$OUT/plain.out")"
fi

for tool in helgrind drd; do
    log=$OUT/first_lookups.$tool
    valgrind --tool="$tool" --suppressions="$SUPPRESSIONS" --error-exitcode=99 \
        "$OUT/first_lookups" "$URL" 2 > "$log" 2>&1
    rc=$?
    errors=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$log" | grep -oE '[0-9]+$')
    if [ "$rc" -eq 0 ] && [ "${errors:-1}" -eq 0 ]; then
        pass "$tool: 0 errors with 16 threads' first lookups ($(grep -E '[0-9]+ passed' "$log" | tail -n 1))"
    else
        fail "$tool: ${errors:-?} errors (exit $rc), see $log"
        grep -E 'Possible data race|Conflicting|lock order|at 0x|by 0x' "$log" | head -n 20
    fi
done

summary_and_exit
