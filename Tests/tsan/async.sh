#!/usr/bin/env bash
# Tests/tsan/async.sh: Tests/c/test_async.c (the *_async calls, the completion
# fd, dispatch from one and from two threads, cancels racing completions)
# under ThreadSanitizer, on both sides of the C ABI:
#   - the library: a debug build of the `membrane` product with
#     --sanitize=thread in .build-tsan (beside the Swift tsan suite's build).
#     Such a libmembrane.so leaves the __tsan_* symbols undefined; the program
#     provides them.
#   - the program: compiled with -fsanitize=thread by the Swift toolchain's own
#     clang, so that both halves share one runtime of the same LLVM version.
#     That runtime also intercepts libdispatch, so the program links the
#     toolchain's libdispatch and libBlocksRuntime (the library itself uses
#     neither). libcurl, libcrypto and jansson are not instrumented: TSan sees
#     their calls, not the memory they touch inside.
# Any ThreadSanitizer report fails the run, whatever the program's checks say.
# Prints one line per check, the program's own count included, then
# "N passed, M failed" (the suite's report kind is "counts").
#
# Environment: SWIFT (default swift), CLANG (default: the clang beside swift),
# MEMBRANE_MOCK (default .build/mock/debug/membrane-mock),
# MEMBRANE_ASYNC_COUNT (default 2000), MEMBRANE_TIME_SCALE (default 4).
set -u

cd "$(dirname "$0")/../.." || exit 2
SWIFT=${SWIFT:-swift}
SWIFT_BIN=$(dirname "$(command -v "$SWIFT")")
CLANG=${CLANG:-$SWIFT_BIN/clang}
TOOLCHAIN_LIB=$(cd "$SWIFT_BIN/../lib/swift/linux" 2>/dev/null && pwd)
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
SCRATCH=.build-tsan
LIB_DIR=$SCRATCH/debug
OUT=$SCRATCH/ctest

# shellcheck source=Tests/lib/mock.sh
. Tests/lib/mock.sh
. Tests/lib/checks.sh
trap stop_mock EXIT
trap 'exit 130' INT TERM
mkdir -p "$OUT"

if "$SWIFT" build --sanitize=thread --scratch-path "$SCRATCH" --product membrane -c debug \
        >"$OUT/build.log" 2>&1; then
    pass "libmembrane.so builds with --sanitize=thread ($LIB_DIR)"
else
    show "$OUT/build.log"
    fail "libmembrane.so builds with --sanitize=thread"
    summary_and_exit
fi
# The loader looks for the SONAME.
ln -sf libmembrane.so "$LIB_DIR/libmembrane.so.0"
LIB_ABS=$(cd "$LIB_DIR" && pwd)

if [ -z "$TOOLCHAIN_LIB" ] || [ ! -e "$TOOLCHAIN_LIB/libdispatch.so" ]; then
    fail "the Swift toolchain's libdispatch.so (looked in $SWIFT_BIN/../lib/swift/linux)"
    summary_and_exit
fi
if "$CLANG" -std=c99 -Wall -Wextra -Werror -g -O1 -fsanitize=thread -I Include -I Tests/c -pthread \
        -o "$OUT/test_async" Tests/c/test_async.c Tests/c/mock_admin.c \
        -L "$LIB_DIR" -lmembrane -ljansson -lcurl -lcrypto -Wl,-rpath,"$LIB_ABS" \
        -L "$TOOLCHAIN_LIB" -ldispatch -lBlocksRuntime -Wl,-rpath,"$TOOLCHAIN_LIB" \
        >"$OUT/compile.log" 2>&1; then
    pass "test_async.c builds with -fsanitize=thread"
else
    show "$OUT/compile.log"
    fail "test_async.c builds with -fsanitize=thread"
    summary_and_exit
fi

# The stand-in server, with workspace credentials for the 401 renewal.
WORKSPACE_KEY=wk-tsan
WORKSPACE_SECRET=$(openssl rand -hex 32)
if ! start_mock "$MOCK" "$OUT" --workspace-key "$WORKSPACE_KEY" --workspace-secret "$WORKSPACE_SECRET"; then
    fail "the stand-in server starts ($MOCK)"
    summary_and_exit
fi
unset MEMBRANE_TOKEN MEMBRANE_API_URL

# halt_on_error=0: every report is written; exitcode=66 marks a run that had any.
rm -f "$OUT"/tsan.*
MEMBRANE_TEST_URL=$URL MEMBRANE_TEST_WORKSPACE_KEY=$WORKSPACE_KEY \
    MEMBRANE_TEST_WORKSPACE_SECRET=$WORKSPACE_SECRET \
    MEMBRANE_ASYNC_COUNT=${MEMBRANE_ASYNC_COUNT:-2000} MEMBRANE_TIME_SCALE=${MEMBRANE_TIME_SCALE:-4} \
    TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 log_path=$OUT/tsan" \
    timeout 1200 "$OUT/test_async" >"$OUT/test_async.stdout" 2>"$OUT/test_async.stderr"
status=$?

last=$(tail -n 1 "$OUT/test_async.stdout")
if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    echo "      test_async under TSan: $last (exit $status)"
    if [ "${BASH_REMATCH[2]}" -ne 0 ]; then
        show "$OUT/test_async.stderr" 60
    fi
else
    fail "test_async under TSan printed its summary (exit $status)"
    show "$OUT/test_async.stderr" 60
fi
grep -h '^note:' "$OUT/test_async.stderr" | sed 's/^/      /'

# Reports go to $OUT/tsan.<pid> (and, should log_path fail, to stderr).
reports=$(cat "$OUT"/tsan.* "$OUT/test_async.stderr" 2>/dev/null | grep -c 'WARNING: ThreadSanitizer')
if [ "$reports" -eq 0 ] && [ "$status" -ne 66 ]; then
    pass "no ThreadSanitizer report"
else
    fail "no ThreadSanitizer report: $reports report(s), exit $status (logs: $OUT/tsan.*)"
    cat "$OUT"/tsan.* 2>/dev/null | grep -E 'WARNING: ThreadSanitizer|^    #[0-9] ' | head -n 40 | sed 's/^/      /'
fi
if [ "$status" -ne 0 ] && [ "$status" -ne 66 ] && [ "$failed" -eq 0 ]; then
    fail "test_async under TSan exits 0 (exit $status)"
fi

# The workspace secret appears nowhere.
if grep -q -e "$WORKSPACE_SECRET" "$OUT"/*.stdout "$OUT"/*.stderr "$OUT"/tsan.* 2>/dev/null; then
    fail "no workspace secret in any output"
fi

stop_mock
summary_and_exit
