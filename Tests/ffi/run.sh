#!/usr/bin/env bash
# Tests/ffi/run.sh: the library as hosts other than C99 meet it.
#
#   1. membrane.cdef (the FFI declarations `make` writes beside the library)
#      is what packaging/ffi-declarations.py makes of Include/membrane.h now,
#      and matches the header as the C compiler sees it
#      (check_declarations.py); that check fails, as it must, on a header
#      that gained a constant, an enumerator or a function the file lacks,
#      and on a file with a wrong prototype, value or field. The generator
#      refuses, writing nothing, what it cannot translate (an inline
#      function, an #if it cannot decide).
#   2. membrane_error's size and offsets, at compile time (layout.c, C11,
#      -Wall -Wextra -Werror -pedantic).
#   3. Python cffi, LuaJIT and Ruby fiddle take the file verbatim, load the
#      library and look integrations up in the stand-in server.
#   4. C++: lookup.cpp builds with g++ -std=c++17 -Wall -Wextra -Werror
#      -pedantic, links and looks an integration up (extern "C").
#   5. The uninstalled membrane.pc: PKG_CONFIG_PATH=<build dir> pkg-config
#      --cflags --libs membrane builds examples/c/membrane-get.c outside the
#      checkout, which then runs with LD_LIBRARY_PATH=<build dir>.
#
# Prints ok/FAIL per check and ends with `N passed, M failed`; exits
# non-zero on any failure.
#
# Environment:
#   MEMBRANE_LIB_DIR   folder holding libmembrane.so, membrane.cdef and membrane.pc
#                      (default .build/release)
#   MEMBRANE_MOCK      the stand-in server's binary (default .build/mock/debug/membrane-mock)
#   CC, CXX, PYTHON    compilers and Python (default cc, g++, python3)
#   GCC                the compiler that judges the declarations: GCC, for -aux-info
#                      and __builtin_types_compatible_p (default gcc)
set -u

cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
LIB_DIR=${MEMBRANE_LIB_DIR:-.build/release}
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
CC=${CC:-cc}
CXX=${CXX:-g++}
GCC=${GCC:-gcc}
PYTHON=${PYTHON:-python3}
TOKEN=mock-token # the token Tests/lib/mock.sh starts the stand-in server with
VERSION=$(sed -n 's/^#define MEMBRANE_VERSION_STRING "\(.*\)"/\1/p' Include/membrane.h)

# shellcheck source=Tests/lib/mock.sh
. Tests/lib/mock.sh
WORK=

. Tests/lib/checks.sh
cleanup() {
    stop_mock
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nothing from the caller's environment may point the programs elsewhere.
unset LD_LIBRARY_PATH LD_PRELOAD MEMBRANE_API_URL MEMBRANE_TOKEN PKG_CONFIG_PATH

LIB_ABS=$(cd "$LIB_DIR" 2>/dev/null && pwd)
CDEF=$LIB_ABS/membrane.cdef
for needed in "$LIB_ABS/libmembrane.so" "$CDEF" "$LIB_ABS/membrane.pc"; do
    if [ -z "$LIB_ABS" ] || [ ! -f "$needed" ]; then
        fail "$needed exists (run make)"
        summary_and_exit
    fi
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/membrane-ffi.XXXXXX")

# ---------------------------------------------------------------------------
# 1. The declarations file against the header
# ---------------------------------------------------------------------------
if "$PYTHON" packaging/ffi-declarations.py Include/membrane.h "$WORK/membrane.cdef" 2>"$WORK/generate.log" &&
    cmp -s "$WORK/membrane.cdef" "$CDEF"; then
    pass "membrane.cdef is what packaging/ffi-declarations.py makes of Include/membrane.h now"
else
    fail "membrane.cdef is what packaging/ffi-declarations.py makes of Include/membrane.h now (run make)"
    show "$WORK/generate.log"
    diff "$CDEF" "$WORK/membrane.cdef" | head -n 20 | sed 's/^/      /'
fi
check "membrane.cdef has no preprocessor line" bash -c '! grep -q "^[[:space:]]*#" "$1"' _ "$CDEF"
check "membrane.cdef declares json_t opaque: typedef struct json_t json_t;" \
    grep -qx 'typedef struct json_t json_t;' "$CDEF"

# declarations_check HEADER CDEF LOG: the compiler-judged comparison.
declarations_check() { "$PYTHON" Tests/ffi/check_declarations.py "$1" "$2" "$GCC" >"$3" 2>&1; }
if declarations_check Include/membrane.h "$CDEF" "$WORK/check.log"; then
    pass "membrane.cdef matches membrane.h, compiler-checked: $(tail -n 1 "$WORK/check.log")"
else
    fail "membrane.cdef matches membrane.h, compiler-checked"
    show "$WORK/check.log"
fi

# The check must fail when the two part. mutant NAME FILE SED-SCRIPT: a copy
# of FILE (membrane.h, or the membrane.cdef made from it just now) changed by
# SED-SCRIPT, in $WORK/NAME/.
FRESH=$WORK/membrane.cdef
mutant() {
    mkdir -p "$WORK/$1"
    sed "$3" "$2" >"$WORK/$1/$(basename "$2")"
    if cmp -s "$2" "$WORK/$1/$(basename "$2")"; then
        fail "$1: the test could not change $(basename "$2") (update its sed script)"
        return 1
    fi
}
# catches WHAT HEADER CDEF NAME: the check fails, naming NAME.
catches() {
    if declarations_check "$2" "$3" "$WORK/catch.log"; then
        fail "the check catches $1: it passed"
    elif grep -q -- "$4" "$WORK/catch.log"; then
        pass "the check catches $1"
    else
        fail "the check catches $1: it failed without naming $4"
        show "$WORK/catch.log"
    fi
}
if mutant new-define Include/membrane.h \
    's/^#define MEMBRANE_INCLUDE_SECRETS 1u$/&\n#define MEMBRANE_TEST_NEW_FLAG 2u/'; then
    catches "a #define the file lacks" "$WORK/new-define/membrane.h" "$FRESH" MEMBRANE_TEST_NEW_FLAG
    # ... and the generator picks it up: the new file passes.
    if "$PYTHON" packaging/ffi-declarations.py "$WORK/new-define/membrane.h" "$WORK/new-define/membrane.cdef" &&
        declarations_check "$WORK/new-define/membrane.h" "$WORK/new-define/membrane.cdef" "$WORK/catch.log" &&
        grep -q 'MEMBRANE_TEST_NEW_FLAG = 2' "$WORK/new-define/membrane.cdef"; then
        pass "regenerated from that header, the file has the new constant and passes"
    else
        fail "regenerated from that header, the file has the new constant and passes"
        show "$WORK/catch.log"
    fi
fi
# What the generator cannot translate faithfully, it refuses (no file).
# refuses WHAT NAME: ffi-declarations.py fails on $WORK/NAME/membrane.h.
refuses() {
    if "$PYTHON" packaging/ffi-declarations.py "$WORK/$2/membrane.h" "$WORK/$2/membrane.cdef" \
        >"$WORK/$2/generate.log" 2>&1 || [ -e "$WORK/$2/membrane.cdef" ]; then
        fail "ffi-declarations.py refuses $1 and writes nothing"
        show "$WORK/$2/generate.log"
    else
        pass "ffi-declarations.py refuses $1 and writes nothing: $(tail -n 1 "$WORK/$2/generate.log" | sed 's/.*membrane.h: //')"
    fi
}
mutant inline-function Include/membrane.h \
    's/^void membrane_free(void \*ptr);$/&\nstatic inline int membrane_test_inline(void) { return 1; }/' &&
    refuses "an inline function" inline-function
mutant undecidable-if Include/membrane.h \
    's/^#define MEMBRANE_INCLUDE_SECRETS 1u$/#if MEMBRANE_SOMETHING_ELSE\n&\n#endif/' &&
    refuses "an #if it cannot decide" undecidable-if
if mutant new-enumerator Include/membrane.h \
    's/^\( *MEMBRANE_ECANCELED *= *-13\)\( .*\)$/\1, MEMBRANE_ETESTNEW = -99\2/'; then
    catches "an enumerator the file lacks" "$WORK/new-enumerator/membrane.h" "$FRESH" MEMBRANE_ETESTNEW
fi
if mutant new-function Include/membrane.h \
    's/^void membrane_free(void \*ptr);$/&\nint membrane_test_new_function(int x);/'; then
    catches "a function the file lacks" "$WORK/new-function/membrane.h" "$FRESH" membrane_test_new_function
fi
if mutant wrong-prototype "$FRESH" 's/int option, long value/int option, int value/'; then
    catches "a prototype with a wrong parameter type" Include/membrane.h \
        "$WORK/wrong-prototype/membrane.cdef" membrane_client_set_long
fi
if mutant wrong-value "$FRESH" 's/MEMBRANE_ENOTFOUND = -4/MEMBRANE_ENOTFOUND = -40/'; then
    catches "a constant with a wrong value" Include/membrane.h "$WORK/wrong-value/membrane.cdef" MEMBRANE_ENOTFOUND
fi
if mutant wrong-field "$FRESH" 's/char key\[64\];/char key[60];/'; then
    catches "a struct field of a wrong size" Include/membrane.h "$WORK/wrong-field/membrane.cdef" 'struct membrane_error'
fi

# ---------------------------------------------------------------------------
# 2. membrane_error's layout, at compile time
# ---------------------------------------------------------------------------
if $CC -std=c11 -Wall -Wextra -Werror -pedantic -I Include -c Tests/ffi/layout.c -o "$WORK/layout.o" \
    >"$WORK/layout.log" 2>&1; then
    pass "layout.c: sizeof(membrane_error) == 424 and every field's offset, at compile time"
else
    fail "layout.c: membrane_error's size and offsets"
    show "$WORK/layout.log"
fi

# ---------------------------------------------------------------------------
# 3 and 4. FFIs and C++ against the stand-in server
# ---------------------------------------------------------------------------
if [ ! -x "$MOCK" ]; then
    fail "stand-in server present ($MOCK; build it with make mock, or set MEMBRANE_MOCK)"
    summary_and_exit
fi
if start_mock "$MOCK" "$WORK"; then
    pass "stand-in server listening on $URL"
else
    fail "stand-in server announced its URL within 30 s"
    summary_and_exit
fi

# hubspot as the fixtures have it, for LuaJIT and C++ (which read no JSON).
FIXTURES=examples/fixtures/integrations.json
fixture() {
    "$PYTHON" -c 'import json,sys; print(next(i for i in json.load(open(sys.argv[1]))["integrations"] if i.get("key") == "hubspot")[sys.argv[2]])' \
        "$FIXTURES" "$1"
}
EXPECT_NAME=$(fixture name)

# program NAME COMMAND...: runs a test program that prints its own ok/FAIL
# lines; counts them, and counts one failure if it died without saying why.
program() {
    local name=$1 rc oks fails
    shift
    env MEMBRANE_CDEF="$CDEF" MEMBRANE_LIBRARY="$LIB_ABS/libmembrane.so" MEMBRANE_API_URL="$URL" \
        TEST_TOKEN="$TOKEN" EXPECT_VERSION="$VERSION" EXPECT_FIXTURES="$ROOT/$FIXTURES" \
        EXPECT_ID="$(fixture id)" EXPECT_NAME="$EXPECT_NAME" EXPECT_STATE="$(fixture state)" \
        timeout 120 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    grep -E '^(ok|FAIL) ' "$WORK/$name.out"
    oks=$(grep -c '^ok ' "$WORK/$name.out")
    fails=$(grep -c '^FAIL ' "$WORK/$name.out")
    passed=$((passed + oks))
    failed=$((failed + fails))
    if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
        fail "$name: exited with status $rc"
        show "$WORK/$name.err"
    elif [ "$rc" -eq 0 ] && [ "$oks" -eq 0 ]; then
        fail "$name: ran no check"
    fi
}
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    fail "$2: $1 is installed (make test-deps installs it)"
    return 1
}

if "$PYTHON" -c 'import cffi' 2>/dev/null; then
    program cffi "$PYTHON" Tests/ffi/lookup_cffi.py
else
    fail "cffi: the cffi module is installed for $PYTHON (make test-deps installs it)"
fi
need luajit LuaJIT && program luajit luajit Tests/ffi/lookup.lua
need ruby "Ruby fiddle" && program fiddle ruby Tests/ffi/lookup.rb

if $CXX -std=c++17 -Wall -Wextra -Werror -pedantic -I Include Tests/ffi/lookup.cpp \
    -L"$LIB_ABS" -lmembrane -ljansson -o "$WORK/lookup-cpp" >"$WORK/cpp.log" 2>&1; then
    pass "lookup.cpp builds with $CXX -std=c++17 -Wall -Wextra -Werror -pedantic and links"
    program c++ env LD_LIBRARY_PATH="$LIB_ABS" "$WORK/lookup-cpp" "$URL" "$TOKEN" hubspot "$EXPECT_NAME"
else
    fail "lookup.cpp builds with $CXX -std=c++17 -Wall -Wextra -Werror -pedantic"
    show "$WORK/cpp.log"
fi

# ---------------------------------------------------------------------------
# 5. The uninstalled pkg-config file
# ---------------------------------------------------------------------------
export PKG_CONFIG_PATH=$LIB_ABS
modversion=$(pkg-config --modversion membrane 2>&1)
check "PKG_CONFIG_PATH=$LIB_DIR pkg-config --modversion membrane: $VERSION (got '$modversion')" \
    test "$modversion" = "$VERSION"
PC_FLAGS=$(pkg-config --cflags --libs membrane 2>&1)
echo "      pkg-config --cflags --libs membrane: $PC_FLAGS"
check "its flags name this checkout's Include and build folder, -lmembrane and -ljansson" \
    bash -c '[[ " $1 " == *" -I$2/Include "* && " $1 " == *" -L$3 "* &&
                " $1 " == *" -lmembrane "* && " $1 " == *" -ljansson "* ]]' _ "$PC_FLAGS" "$ROOT" "$LIB_ABS"
check "no rpath in them (the README says: run with LD_LIBRARY_PATH)" \
    bash -c '[[ "$1" != *rpath* ]]' _ "$PC_FLAGS"
mkdir -p "$WORK/pc"
cp examples/c/membrane-get.c "$WORK/pc/"
# shellcheck disable=SC2086
if (cd "$WORK/pc" && $CC -std=c99 -Wall -Wextra -Werror membrane-get.c $PC_FLAGS -o membrane-get) \
    >"$WORK/pc.log" 2>&1; then
    pass "membrane-get.c, outside the checkout, builds with \$(pkg-config --cflags --libs membrane)"
    env LD_LIBRARY_PATH="$LIB_ABS" MEMBRANE_TOKEN="$TOKEN" timeout 60 "$WORK/pc/membrane-get" \
        --api-url "$URL" hubspot >"$WORK/pc.out" 2>"$WORK/pc.err"
    rc=$?
    if [ "$rc" -eq 0 ] && "$PYTHON" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])).get("name") != sys.argv[2])' \
        "$WORK/pc.out" "$EXPECT_NAME" 2>/dev/null; then
        pass "it runs with LD_LIBRARY_PATH=$LIB_DIR and prints hubspot ($EXPECT_NAME)"
    else
        fail "it runs with LD_LIBRARY_PATH=$LIB_DIR and prints hubspot: exit $rc"
        show "$WORK/pc.err"
    fi
else
    fail "membrane-get.c builds with \$(pkg-config --cflags --libs membrane)"
    show "$WORK/pc.log"
fi
unset PKG_CONFIG_PATH

summary_and_exit
