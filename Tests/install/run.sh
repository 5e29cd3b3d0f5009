#!/usr/bin/env bash
# Tests/install/run.sh: checks `make install` and `make uninstall` the way a
# C user meets them.
#
#   1. `make install DESTDIR=<tmp>` (PREFIX left at its default, /usr/local):
#      exactly the expected files, the links libmembrane.so -> .so.0 ->
#      .so.X.Y.Z, the SONAME, the header, membrane.pc, the CMake package and
#      share/membrane/membrane.cdef (the FFI declarations, as built).
#   2. The C examples (examples/c/membrane-get.c, membrane-status.c, membrane-watch.c and
#      CMakeLists.txt), copied to a folder outside the repository, build
#      against the installed tree only: (a) with
#      `cc ... $(pkg-config --cflags --libs membrane)`, (b) with CMake and
#      -DCMAKE_PREFIX_PATH=<tmp>/usr/local. find_package(membrane V) accepts
#      0.1 and 0.2 and no version, and refuses 1.0 (other major) and 0.3.
#   3. Each built program runs against the stand-in server with
#      LD_LIBRARY_PATH=<tmp>/usr/local/lib, and loads that installed library
#      (checked with LD_DEBUG), not the build folder's.
#   4. `make uninstall DESTDIR=<tmp>` leaves <tmp> empty.
#
# Prints ok/FAIL per check and ends with `N passed, M failed`; exits
# non-zero on any failure.
#
# Environment:
#   MEMBRANE_MOCK      the stand-in server's binary (default .build/mock/debug/membrane-mock)
#   CC                 the C compiler (default cc)
#   MEMBRANE_KEEP_TMP  1 keeps the temporary folders (their paths are printed)
set -u

cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
CC=${CC:-cc}
TOKEN=mock-token
PREFIX=/usr/local # the Makefile's default, which this test leaves alone
VERSION=$(sed -n 's/^#define MEMBRANE_VERSION_STRING "\(.*\)"/\1/p' Include/membrane.h)
MAJOR=${VERSION%%.*}
MINOR=${VERSION#*.}
MINOR=${MINOR%%.*}

# shellcheck source=Tests/lib/mock.sh
. Tests/lib/mock.sh
DEST=
WORK=

. Tests/lib/checks.sh

cleanup() {
    stop_mock
    if [ "${MEMBRANE_KEEP_TMP:-0}" = 1 ]; then
        echo "kept: DESTDIR $DEST, work $WORK"
    else
        [ -n "$DEST" ] && rm -rf "$DEST"
        [ -n "$WORK" ] && rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nothing from the caller's environment may point the programs elsewhere.
unset LD_LIBRARY_PATH LD_PRELOAD MEMBRANE_API_URL MEMBRANE_TOKEN PKG_CONFIG_PATH CMAKE_PREFIX_PATH

if [ -z "$VERSION" ] || [ -z "$MAJOR" ] || [ -z "$MINOR" ]; then
    fail "the version is in Include/membrane.h (MEMBRANE_VERSION_STRING)"
    summary_and_exit
fi
DEST=$(mktemp -d "${TMPDIR:-/tmp}/membrane-destdir.XXXXXX")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/membrane-user.XXXXXX")
case "$WORK/" in
    "$ROOT"/*)
        fail "the build folder $WORK is outside the repository"
        summary_and_exit
        ;;
esac
P=$DEST$PREFIX # the installed prefix, as seen through DESTDIR
LIB=$P/lib

# ---------------------------------------------------------------------------
# 1. make install
# ---------------------------------------------------------------------------
# No PREFIX/DESTDIR from the environment or a parent make's command line:
# this is the plain `make install DESTDIR=...` a packager types.
if env -u PREFIX -u DESTDIR -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -C "$ROOT" --no-print-directory install DESTDIR="$DEST" >"$WORK/install.log" 2>&1; then
    pass "make install DESTDIR=$DEST"
else
    fail "make install DESTDIR=$DEST"
    show "$WORK/install.log"
    summary_and_exit
fi

# Exactly these, nothing more (links listed as links).
expected=$(
    printf '%s\n' \
        "f $PREFIX/lib/libmembrane.so.$VERSION" \
        "l $PREFIX/lib/libmembrane.so.$MAJOR" \
        "l $PREFIX/lib/libmembrane.so" \
        "f $PREFIX/include/membrane.h" \
        "f $PREFIX/lib/pkgconfig/membrane.pc" \
        "f $PREFIX/lib/cmake/membrane/membraneConfig.cmake" \
        "f $PREFIX/lib/cmake/membrane/membraneConfigVersion.cmake" \
        "f $PREFIX/lib/.debug/libmembrane.so.debug" \
        "f $PREFIX/share/membrane/membrane.cdef" \
        "f $PREFIX/share/membrane/membrane.supp" | sort
)
actual=$(cd "$DEST" && find . -mindepth 1 ! -type d -printf '%y /%P\n' | sort)
if [ "$actual" = "$expected" ]; then
    pass "installed exactly the $(printf '%s\n' "$expected" | wc -l) expected files and links under $PREFIX"
else
    fail "installed files: want"
    printf '%s\n' "$expected" | sed 's/^/      want /'
    printf '%s\n' "$actual" | sed 's/^/      got  /'
fi

check "libmembrane.so.$VERSION is a regular, executable file" \
    test -f "$LIB/libmembrane.so.$VERSION" -a ! -L "$LIB/libmembrane.so.$VERSION" -a -x "$LIB/libmembrane.so.$VERSION"
check "libmembrane.so.$VERSION is the built library" \
    cmp -s "$LIB/libmembrane.so.$VERSION" "$ROOT/.build/release/libmembrane.so"
link=$(readlink "$LIB/libmembrane.so.$MAJOR" 2>/dev/null)
check "libmembrane.so.$MAJOR -> libmembrane.so.$VERSION (relative link; got '$link')" \
    test "$link" = "libmembrane.so.$VERSION"
link=$(readlink "$LIB/libmembrane.so" 2>/dev/null)
check "libmembrane.so -> libmembrane.so.$MAJOR (relative link; got '$link')" \
    test "$link" = "libmembrane.so.$MAJOR"
check "libmembrane.so resolves to libmembrane.so.$VERSION" \
    test "$(readlink -f "$LIB/libmembrane.so")" = "$(readlink -f "$LIB/libmembrane.so.$VERSION")"
soname=$(readelf -d "$LIB/libmembrane.so.$VERSION" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "SONAME is libmembrane.so.$MAJOR (got '$soname')" test "$soname" = "libmembrane.so.$MAJOR"
check "include/membrane.h is Include/membrane.h" cmp -s "$P/include/membrane.h" Include/membrane.h
check "include/membrane.h is not executable" test ! -x "$P/include/membrane.h"
check "share/membrane/membrane.supp (valgrind suppressions for hosts) is packaging/membrane.supp" \
    cmp -s "$P/share/membrane/membrane.supp" packaging/membrane.supp
check "share/membrane/membrane.cdef (FFI declarations) is the built .build/release/membrane.cdef" \
    cmp -s "$P/share/membrane/membrane.cdef" "$ROOT/.build/release/membrane.cdef"
check "share/membrane/membrane.cdef is not executable" test ! -x "$P/share/membrane/membrane.cdef"

# Debug symbols: the library ships stripped; gdb finds file and line through
# the debuglink in lib/.debug/. The same library copied alone has none.
check "the installed library is stripped (no .debug_info)" \
    bash -c '! readelf -S "$1" | grep -q "\.debug_info"' _ "$LIB/libmembrane.so.$VERSION"
check "lib/.debug/libmembrane.so.debug is the build's debug file" \
    cmp -s "$LIB/.debug/libmembrane.so.debug" "$ROOT/.build/release/libmembrane.so.debug"
gdb -batch -ex 'info line CurlLane.swift:15' "$LIB/libmembrane.so.$VERSION" >"$WORK/gdb.installed" 2>&1
check "gdb names the source line of an internal function in the installed library" \
    grep -q 'Line 15 of ".*CurlLane.swift"' "$WORK/gdb.installed"
mkdir -p "$WORK/alone"
cp "$LIB/libmembrane.so.$VERSION" "$WORK/alone/"
gdb -batch -ex 'info line CurlLane.swift:15' "$WORK/alone/libmembrane.so.$VERSION" >"$WORK/gdb.alone" 2>&1
check "without the debug file, gdb has no source lines (so they came from it)" \
    bash -c '! grep -q "Line 15 of" "$1"' _ "$WORK/gdb.alone"
check "membrane.pc and the CMake files have no @PLACEHOLDER@ left" \
    bash -c '! grep -l "@[A-Z_]*@" "$@"' _ "$LIB/pkgconfig/membrane.pc" \
    "$LIB/cmake/membrane/membraneConfig.cmake" "$LIB/cmake/membrane/membraneConfigVersion.cmake"

# membrane.pc, as pkg-config reads it.
export PKG_CONFIG_PATH=$LIB/pkgconfig
pcdir=$(pkg-config --variable=pcfiledir membrane 2>/dev/null)
check "pkg-config finds the installed membrane.pc (pcfiledir '$pcdir')" test "$pcdir" = "$LIB/pkgconfig"
modversion=$(pkg-config --modversion membrane 2>/dev/null)
check "pkg-config --modversion membrane: $VERSION (got '$modversion')" test "$modversion" = "$VERSION"
check "pkg-config --exists 'membrane >= $MAJOR.$MINOR'" pkg-config --exists "membrane >= $MAJOR.$MINOR"
check "pkg-config: not 'membrane >= $((MAJOR + 1)).0'" bash -c '! pkg-config --exists "$1"' _ "membrane >= $((MAJOR + 1)).0"
PC_FLAGS=$(pkg-config --cflags --libs membrane 2>"$WORK/pkg-config.err")
echo "      pkg-config --cflags --libs membrane: $PC_FLAGS"
incdir=$(pkg-config --variable=includedir membrane 2>/dev/null)
libdir=$(pkg-config --variable=libdir membrane 2>/dev/null)
check "pkg-config includedir is the installed include folder ($incdir)" \
    test "$(realpath -m "$incdir")" = "$P/include"
check "pkg-config libdir is the installed lib folder ($libdir)" \
    test "$(realpath -m "$libdir")" = "$LIB"
check "pkg-config --libs has -lmembrane and -ljansson (membrane.h exposes jansson)" \
    bash -c '[[ " $1 " == *" -lmembrane "* && " $1 " == *" -ljansson "* ]]' _ "$PC_FLAGS"

# ---------------------------------------------------------------------------
# 2. Build the examples outside the repository, against the install only
# ---------------------------------------------------------------------------
SRC=$WORK/src
mkdir -p "$SRC" "$WORK/pc"
cp examples/c/membrane-get.c examples/c/membrane-status.c examples/c/membrane-watch.c examples/c/CMakeLists.txt "$SRC/"
EXAMPLES="membrane-get membrane-status membrane-watch"

# (a) pkg-config
BUILT=
for p in $EXAMPLES; do
    # shellcheck disable=SC2046
    if (cd "$SRC" && $CC -std=c99 -Wall -Wextra -Werror "$p.c" \
        $(pkg-config --cflags --libs membrane) -o "$WORK/pc/$p") >"$WORK/pc-$p.log" 2>&1; then
        pass "$p: builds with cc -std=c99 -Wall -Wextra -Werror \$(pkg-config --cflags --libs membrane)"
        BUILT="$BUILT pc/$p"
    else
        fail "$p: builds with pkg-config"
        show "$WORK/pc-$p.log"
    fi
done
# The header the compiler used is the installed one.
# shellcheck disable=SC2046
header=$(cd "$SRC" && $CC -std=c99 -M membrane-status.c $(pkg-config --cflags membrane) 2>/dev/null |
    tr ' \\' '\n\n' | grep '/membrane\.h$' | head -n 1)
check "the pkg-config build includes the installed membrane.h (${header:-none})" \
    test "$(realpath -m "$header")" = "$P/include/membrane.h"
unset PKG_CONFIG_PATH

# (b) CMake, with examples/c/CMakeLists.txt
if cmake -S "$SRC" -B "$WORK/cmake" -DCMAKE_PREFIX_PATH="$P" -DMEMBRANE_EXAMPLES_WERROR=ON \
    -DCMAKE_C_COMPILER="$(command -v "$CC")" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    >"$WORK/cmake-configure.log" 2>&1; then
    pass "cmake -S <copy of examples/c> -DCMAKE_PREFIX_PATH=$P: configures (find_package(membrane 0.2 REQUIRED))"
    found_dir=$(sed -n 's/^membrane_DIR:[A-Z]*=//p' "$WORK/cmake/CMakeCache.txt")
    check "CMake found the installed package ($found_dir)" test "$found_dir" = "$LIB/cmake/membrane"
    if cmake --build "$WORK/cmake" >"$WORK/cmake-build.log" 2>&1; then
        pass "cmake --build: membrane-get, membrane-status and membrane-watch build (-Wall -Wextra -Werror, C99)"
        for p in $EXAMPLES; do
            if [ -x "$WORK/cmake/$p" ]; then BUILT="$BUILT cmake/$p"; else fail "cmake built $p"; fi
        done
    else
        fail "cmake --build"
        show "$WORK/cmake-build.log"
    fi
    if grep -q -- '-std=c99' "$WORK/cmake/CMakeFiles/membrane-status.dir/flags.make" 2>/dev/null; then
        pass "CMake compiles the examples with -std=c99"
    else
        fail "CMake compiles the examples with -std=c99: $(grep C_FLAGS "$WORK/cmake/CMakeFiles/membrane-status.dir/flags.make" 2>/dev/null)"
    fi
else
    fail "cmake configures the examples"
    show "$WORK/cmake-configure.log"
fi

# find_package(membrane V) against the installed version file.
mkdir -p "$WORK/findpkg"
cat >"$WORK/findpkg/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.10...3.31)
project(membrane_find_package LANGUAGES C)
if(WANT STREQUAL "none")
  find_package(membrane REQUIRED)
else()
  find_package(membrane ${WANT} REQUIRED)
endif()
if(NOT TARGET membrane::membrane)
  message(FATAL_ERROR "no target membrane::membrane")
endif()
message(STATUS "found membrane ${membrane_VERSION}")
EOF
# find_version WANT EXPECT(ok|refused)
find_version() {
    local want=$1 expect=$2 log="$WORK/findpkg-$1.log" call="find_package(membrane $1)"
    [ "$want" = none ] && call="find_package(membrane)"
    rm -rf "$WORK/findpkg/build"
    if cmake -S "$WORK/findpkg" -B "$WORK/findpkg/build" -DWANT="$want" -DCMAKE_PREFIX_PATH="$P" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$log" 2>&1; then
        if [ "$expect" = ok ]; then
            if grep -q "found membrane $VERSION" "$log"; then
                pass "$call succeeds (membrane::membrane, version $VERSION)"
            else
                fail "$call: configured, but no 'found membrane $VERSION'"
                show "$log"
            fi
        else
            fail "$call fails, but it succeeded"
            show "$log"
        fi
    else
        if [ "$expect" = refused ]; then
            # Refused for its version, not for anything else.
            if grep -q "$VERSION" "$log" && grep -qi 'version' "$log"; then
                pass "$call fails (installed $VERSION is not compatible)"
            else
                fail "$call fails, but not for the version"
                show "$log"
            fi
        else
            fail "$call succeeds, but it failed"
            show "$log"
        fi
    fi
}
find_version none ok
find_version "$MAJOR.$MINOR" ok
if [ "$MINOR" -gt 0 ]; then
    find_version "$MAJOR.$((MINOR - 1))" ok # same major, older minor
fi
find_version "$MAJOR.$((MINOR + 1))" refused # same major, newer minor
find_version "$((MAJOR + 1)).0" refused     # major mismatch

# ---------------------------------------------------------------------------
# 3. Run the built programs with the installed library
# ---------------------------------------------------------------------------
if [ ! -x "$MOCK" ]; then
    fail "stand-in server present ($MOCK; build it with make mock, or set MEMBRANE_MOCK)"
else
    if start_mock "$MOCK" "$WORK"; then
        pass "stand-in server listening on $URL"
    else
        fail "stand-in server announced its URL within 30 s"
    fi
fi

# run PROGRAM ARGS...: runs a built program with the installed library;
# leaves $WORK/run.stdout, $WORK/run.stderr, and RUN_STATUS.
run() {
    local program=$WORK/$1
    shift
    env LD_LIBRARY_PATH="$LIB" MEMBRANE_TOKEN="$TOKEN" timeout 60 "$program" "$@" \
        >"$WORK/run.stdout" 2>"$WORK/run.stderr"
    RUN_STATUS=$?
}

if [ -n "${URL:-}" ]; then
    for b in $BUILT; do
        p=${b#*/}
        how=${b%%/*}
        [ "$how" = pc ] && how=pkg-config

        # Which libmembrane the loader opens: the installed one, by its SONAME.
        env LD_LIBRARY_PATH="$LIB" LD_DEBUG=libs MEMBRANE_TOKEN="$TOKEN" timeout 60 \
            "$WORK/$b" --api-url "$URL" hubspot >/dev/null 2>"$WORK/ld-debug.log"
        loaded=$(sed -n 's/.*calling init: \(.*libmembrane[^ ]*\).*/\1/p' "$WORK/ld-debug.log" | head -n 1)
        if [ "$loaded" = "$LIB/libmembrane.so.$MAJOR" ] && [ "$(readlink -f "$loaded")" = "$LIB/libmembrane.so.$VERSION" ] &&
            ! grep -q "$ROOT/.build" "$WORK/ld-debug.log"; then
            pass "$p ($how): loads the installed $loaded"
        else
            fail "$p ($how): loads the installed library (LD_DEBUG: '${loaded:-no libmembrane}')"
            grep libmembrane "$WORK/ld-debug.log" | head -n 10 | sed 's/^/      /'
        fi

        case $p in
            membrane-get)
                run "$b" --api-url "$URL" hubspot
                if [ "$RUN_STATUS" -eq 0 ] &&
                    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("key")=="hubspot" and d.get("name")=="HubSpot" and d.get("id")=="67c05c5f0872bad5078153b9" else 1)' \
                        "$WORK/run.stdout" 2>/dev/null; then
                    pass "membrane-get ($how) hubspot: exit 0, prints hubspot's JSON"
                else
                    fail "membrane-get ($how) hubspot: exit $RUN_STATUS, stdout: $(head -c 200 "$WORK/run.stdout") stderr: $(head -c 200 "$WORK/run.stderr")"
                fi
                run "$b" --api-url "$URL" nope
                check "membrane-get ($how) nope: exit 5 (not found; got $RUN_STATUS)" test "$RUN_STATUS" -eq 5
                ;;
            membrane-watch)
                # --once: one round of async lookups, one line per selector, then exit.
                run "$b" --once --api-url "$URL" hubspot nope
                out=$WORK/run.stdout
                if [ "$RUN_STATUS" -eq 1 ] && grep -Eq ' hubspot: state READY$' "$out" &&
                    grep -Eq ' nope: lookup failed: not found' "$out"; then
                    pass "membrane-watch ($how) --once hubspot nope: exit 1, hubspot READY, nope not found"
                else
                    fail "membrane-watch ($how) --once hubspot nope: exit $RUN_STATUS (want 1)"
                    show "$out"
                    show "$WORK/run.stderr"
                fi
                run "$b" --once --api-url "$URL" hubspot
                check "membrane-watch ($how) --once hubspot: exit 0 (got $RUN_STATUS)" test "$RUN_STATUS" -eq 0
                ;;
            membrane-status)
                run "$b" --api-url "$URL" hubspot salesforce nope
                out=$WORK/run.stdout
                rows=$(tail -n +2 "$out" | grep -c .)
                if [ "$RUN_STATUS" -eq 1 ] && [ "$(head -n 1 "$out" | awk '{print $1}')" = SELECTOR ] && [ "$rows" -eq 3 ]; then
                    pass "membrane-status ($how) hubspot salesforce nope: exit 1, a header and 3 rows"
                else
                    fail "membrane-status ($how) hubspot salesforce nope: exit $RUN_STATUS (want 1), $rows rows (want 3)"
                    show "$out"
                    show "$WORK/run.stderr"
                fi
                # Each row: SELECTOR NAME KEY STATE CONNECTED MISSING-PARAMS [NOTE...]
                check "membrane-status ($how): hubspot row: HubSpot, READY, connected yes, missing no" \
                    grep -Eq '^hubspot +HubSpot +hubspot +READY +yes +no$' "$out"
                check "membrane-status ($how): salesforce row: not connected, waiting for the user to connect" \
                    grep -Eq '^salesforce +Salesforce +salesforce +CLIENT_ACTION_REQUIRED +no +no +waiting for user: connect$' "$out"
                check "membrane-status ($how): nope row: not found" \
                    grep -Eq '^nope +- +- +- +- +- +error: not found$' "$out"
                check "membrane-status ($how): stderr names the failed selector" \
                    grep -q "^membrane-status: nope: .*not found" "$WORK/run.stderr"
                run "$b" --api-url "$URL" hubspot 67c05c5f0872bad5078153b9 notion
                check "membrane-status ($how) with every selector found: exit 0 (got $RUN_STATUS)" \
                    test "$RUN_STATUS" -eq 0
                run "$b" --api-url "$URL"
                check "membrane-status ($how) without a selector: exit 2 (got $RUN_STATUS)" \
                    test "$RUN_STATUS" -eq 2
                ;;
        esac
    done
fi
stop_mock

# ---------------------------------------------------------------------------
# 4. make uninstall
# ---------------------------------------------------------------------------
if env -u PREFIX -u DESTDIR -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -C "$ROOT" --no-print-directory uninstall DESTDIR="$DEST" >"$WORK/uninstall.log" 2>&1; then
    pass "make uninstall DESTDIR=$DEST"
else
    fail "make uninstall DESTDIR=$DEST"
    show "$WORK/uninstall.log"
fi
left=$(find "$DEST" -mindepth 1 2>&1)
if [ -d "$DEST" ] && [ -z "$left" ]; then
    pass "after make uninstall, $DEST is empty"
else
    fail "after make uninstall, $DEST is empty; left:"
    printf '%s\n' "$left" | head -n 20 | sed 's/^/      /'
fi

summary_and_exit
