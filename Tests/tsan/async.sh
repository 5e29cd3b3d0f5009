#!/usr/bin/env bash
# Tests/tsan/async.sh: the C tests whose library work crosses threads, under
# ThreadSanitizer, on both sides of the C ABI:
#   - Tests/c/test_async.c: the *_async calls, the completion fd, dispatch
#     from one and from two threads, cancels racing completions;
#   - Tests/c/test_sharing.c: lookups of one selector shared between threads
#     and the async calls, cancels and deadlines of leaders and followers,
#     the cache filled and emptied while other threads look up.
# Built as:
#   - the library: a debug build of the `membrane` product with
#     --sanitize=thread in .build-tsan (beside the Swift tsan suite's build).
#     Such a libmembrane.so leaves the __tsan_* symbols undefined; the program
#     provides them.
#   - the programs: compiled with -fsanitize=thread by the Swift toolchain's
#     own clang, so that both halves share one runtime of the same LLVM
#     version. That runtime also intercepts libdispatch, so the programs link
#     the toolchain's libdispatch and libBlocksRuntime (the library itself uses
#     neither). libcurl, libcrypto and jansson are not instrumented: TSan sees
#     their calls, not the memory they touch inside.
# Any ThreadSanitizer report fails the run, whatever the programs' checks say.
# Prints one line per check, the programs' own counts included, then
# "N passed, M failed" (the suite's report kind is "counts").
#
# Environment: SWIFT (default swift), CLANG (default: the clang beside swift),
# MEMBRANE_MOCK (default .build/mock/debug/membrane-mock),
# MEMBRANE_ASYNC_COUNT (default 2000), MEMBRANE_TIME_SCALE (default 4),
# MEMBRANE_TSAN_PROGRAMS (default "test_async test_sharing").
set -u

cd "$(dirname "$0")/../.." || exit 2
SWIFT=${SWIFT:-swift}
SWIFT_BIN=$(dirname "$(command -v "$SWIFT")")
CLANG=${CLANG:-$SWIFT_BIN/clang}
TOOLCHAIN_LIB=$(cd "$SWIFT_BIN/../lib/swift/linux" 2>/dev/null && pwd)
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
PROGRAMS=${MEMBRANE_TSAN_PROGRAMS:-"test_async test_sharing"}
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
for program in $PROGRAMS; do
    if "$CLANG" -std=c99 -Wall -Wextra -Werror -g -O1 -fsanitize=thread -I Include -I Tests/c -pthread \
            -o "$OUT/$program" "Tests/c/$program.c" Tests/c/mock_admin.c \
            -L "$LIB_DIR" -lmembrane -ljansson -lcurl -lcrypto -Wl,-rpath,"$LIB_ABS" \
            -L "$TOOLCHAIN_LIB" -ldispatch -lBlocksRuntime -Wl,-rpath,"$TOOLCHAIN_LIB" \
            >"$OUT/$program.compile.log" 2>&1; then
        pass "$program.c builds with -fsanitize=thread"
    else
        show "$OUT/$program.compile.log"
        fail "$program.c builds with -fsanitize=thread"
        summary_and_exit
    fi
done

# The stand-in server, with workspace credentials for the 401 renewal.
WORKSPACE_KEY=wk-tsan
WORKSPACE_SECRET=$(openssl rand -hex 32)
if ! start_mock "$MOCK" "$OUT" --workspace-key "$WORKSPACE_KEY" --workspace-secret "$WORKSPACE_SECRET"; then
    fail "the stand-in server starts ($MOCK)"
    summary_and_exit
fi
unset MEMBRANE_TOKEN MEMBRANE_API_URL

# halt_on_error=0: every report is written; exitcode=66 marks a run that had any.
for program in $PROGRAMS; do
    rm -f "$OUT"/tsan.*
    MEMBRANE_TEST_URL=$URL MEMBRANE_TEST_WORKSPACE_KEY=$WORKSPACE_KEY \
        MEMBRANE_TEST_WORKSPACE_SECRET=$WORKSPACE_SECRET \
        MEMBRANE_ASYNC_COUNT=${MEMBRANE_ASYNC_COUNT:-2000} MEMBRANE_TIME_SCALE=${MEMBRANE_TIME_SCALE:-4} \
        TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 log_path=$OUT/tsan" \
        timeout 1200 "$OUT/$program" >"$OUT/$program.stdout" 2>"$OUT/$program.stderr"
    status=$?

    last=$(tail -n 1 "$OUT/$program.stdout")
    program_failed=0
    if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        program_failed=${BASH_REMATCH[2]}
        echo "      $program under TSan: $last (exit $status)"
        if [ "$program_failed" -ne 0 ]; then
            show "$OUT/$program.stderr" 60
        fi
    else
        program_failed=1
        fail "$program under TSan printed its summary (exit $status)"
        show "$OUT/$program.stderr" 60
    fi
    grep -h '^note:' "$OUT/$program.stderr" | sed 's/^/      /'

    # Reports go to $OUT/tsan.<pid> (and, should log_path fail, to stderr).
    reports=$(cat "$OUT"/tsan.* "$OUT/$program.stderr" 2>/dev/null | grep -c 'WARNING: ThreadSanitizer')
    if [ "$reports" -eq 0 ] && [ "$status" -ne 66 ]; then
        pass "$program: no ThreadSanitizer report"
    else
        fail "$program: no ThreadSanitizer report: $reports report(s), exit $status (logs: $OUT/tsan.*)"
        cat "$OUT"/tsan.* 2>/dev/null | grep -E 'WARNING: ThreadSanitizer|^    #[0-9] ' | head -n 40 | sed 's/^/      /'
        mkdir -p "$OUT/reports-$program" && cp "$OUT"/tsan.* "$OUT/reports-$program/" 2>/dev/null
    fi
    if [ "$status" -ne 0 ] && [ "$status" -ne 66 ] && [ "$program_failed" -eq 0 ]; then
        fail "$program under TSan exits 0 (exit $status)"
    fi
done

# The workspace secret appears nowhere.
if grep -q -e "$WORKSPACE_SECRET" "$OUT"/*.stdout "$OUT"/*.stderr "$OUT"/tsan.* 2>/dev/null; then
    fail "no workspace secret in any output"
fi

stop_mock
summary_and_exit
