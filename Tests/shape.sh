#!/usr/bin/env bash
# Tests/shape.sh [LIBRARY]: checks the shape of the built shared library
# (default .build/release/libmembrane.so): it exports the C ABI of
# Include/membrane.h and nothing else, carries the SONAME libmembrane.so.0,
# and needs no Swift runtime at run time. Prints ok/FAIL per check and ends
# with `N passed, M failed`; exits non-zero on any failure.
set -u

# A path given as $1 is relative to the caller's folder; the default to the
# repository's root (where this script reads Include/membrane.h).
if [ $# -ge 1 ]; then
    LIB=$(realpath -m -- "$1")
fi
cd "$(dirname "$0")/.." || exit 2
LIB=${LIB:-.build/release/libmembrane.so}

. Tests/lib/checks.sh

if [ -f "$LIB" ]; then
    pass "$LIB exists"
else
    fail "$LIB exists"
    summary_and_exit
fi

if readelf -h "$LIB" 2>/dev/null | grep -q 'Type:.*DYN'; then
    pass "an ELF shared object"
else
    fail "an ELF shared object"
    summary_and_exit
fi

# --- Exported symbols -------------------------------------------------------
# Names only, without symbol versions; the linker's own markers are ignored.
symbols=$(nm -D --defined-only "$LIB" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' |
    grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$' | sort -u)
foreign=$(printf '%s\n' "$symbols" | grep -v '^membrane_' | grep -v '^$')
if [ -z "$foreign" ]; then
    pass "only membrane_* symbols are exported ($(printf '%s\n' "$symbols" | grep -c .) of them)"
else
    fail "only membrane_* symbols are exported; also: $(printf '%s\n' "$foreign" | head -n 20 | tr '\n' ' ')$([ "$(printf '%s\n' "$foreign" | wc -l)" -gt 20 ] && echo "... ($(printf '%s\n' "$foreign" | wc -l) in all)")"
fi

# Every function the header declares is exported, as a function.
functions=$(nm -D --defined-only "$LIB" | awk '$2 ~ /^[TtWwi]$/ { print $3 }' | sed 's/@.*//')
header_functions=$(grep -Eo '\bmembrane_[a-z_]+ *\(' Include/membrane.h | tr -d ' (' | sort -u)
missing=
for f in $header_functions; do
    printf '%s\n' "$functions" | grep -qx "$f" || missing="$missing $f"
done
if [ -n "$header_functions" ] && [ -z "$missing" ]; then
    pass "every function of Include/membrane.h is exported ($(echo $header_functions | wc -w))"
else
    fail "every function of Include/membrane.h is exported; missing:$missing"
fi

# --- Dynamic section --------------------------------------------------------
dynamic=$(readelf -d "$LIB")
soname=$(printf '%s\n' "$dynamic" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" = "libmembrane.so.0" ]; then
    pass "SONAME libmembrane.so.0"
else
    fail "SONAME libmembrane.so.0 (got '${soname:-none}')"
fi

needed=$(printf '%s\n' "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
swift=$(printf '%s\n' "$needed" | grep -E '^libswift' || true)
if [ -z "$swift" ]; then
    pass "no NEEDED libswift* (needs: $(echo $needed))"
else
    fail "no NEEDED libswift*; needs: $(echo $swift)"
fi

# The rest of a Swift toolchain's run time on Linux is not needed either.
toolchain=$(printf '%s\n' "$needed" |
    grep -E '^(libFoundation|libFoundationEssentials|libFoundationInternationalization|lib_FoundationICU|libdispatch|libBlocksRuntime)' || true)
if [ -z "$toolchain" ]; then
    pass "no NEEDED Foundation/dispatch/BlocksRuntime"
else
    fail "no NEEDED Foundation/dispatch/BlocksRuntime; needs: $(echo $toolchain)"
fi

# json_t values cross the boundary: the library must use the host's shared
# libjansson, not a private copy.
if printf '%s\n' "$needed" | grep -q '^libjansson\.so'; then
    pass "NEEDED libjansson (json_t is shared with the host)"
else
    fail "NEEDED libjansson (json_t is shared with the host); needs: $(echo $needed)"
fi

# No RPATH/RUNPATH into a build or toolchain folder ($ORIGIN-relative is fine).
runpath=$(printf '%s\n' "$dynamic" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\].*/\2/p')
absolute=$(printf '%s\n' "$runpath" | tr ':' '\n' | grep -v '^$' | grep -v '^\$ORIGIN' || true)
if [ -z "$absolute" ]; then
    pass "no RPATH/RUNPATH outside \$ORIGIN${runpath:+ (has '$runpath')}"
else
    fail "no RPATH/RUNPATH outside \$ORIGIN (got '$runpath')"
fi

# dlclose must never unmap it: the Swift runtime inside keeps thread-exit
# destructors and caches other threads may still reach (hosts that unload
# plugins, such as SQLite closing a connection, would crash later).
if printf '%s\n' "$dynamic" | grep -q 'FLAGS_1.*NODELETE'; then
    pass "marked NODELETE (-z nodelete)"
else
    fail "marked NODELETE (-z nodelete)"
fi
work=$(mktemp -d)
cat > "$work/unload.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
/* Loads the library, makes and frees a client (the first one runs the
   library's one-time set-up), unloads it, and reports whether it is still
   mapped: it must be, and loading it again must work. */
int main(int argc, char **argv)
{
    (void)argc;
    for (int round = 0; round < 2; round++) {
        void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!lib) { printf("dlopen: %s\n", dlerror()); return 1; }
        int (*client_new)(void **, const char *, const char *, void *) =
            (int (*)(void **, const char *, const char *, void *))dlsym(lib, "membrane_client_new");
        void (*client_free)(void *) = (void (*)(void *))dlsym(lib, "membrane_client_free");
        void *client = NULL;
        if (!client_new || !client_free || client_new(&client, "http://127.0.0.1:1", "t", NULL) != 0) {
            printf("membrane_client_new failed\n");
            return 1;
        }
        client_free(client);
        dlclose(lib);
    }
    char line[4096];
    int mapped = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    while (maps && fgets(line, sizeof line, maps)) {
        if (strstr(line, "libmembrane")) mapped = 1;
    }
    if (maps) fclose(maps);
    printf("%s\n", mapped ? "still mapped" : "unmapped");
    return 0;
}
C
if ${CC:-cc} -std=c99 "$work/unload.c" -ldl -o "$work/unload" 2>"$work/cc.log"; then
    result=$("$work/unload" "$LIB" 2>&1)
    if [ "$result" = "still mapped" ]; then
        pass "after dlclose it stays mapped, and loads again"
    else
        fail "after dlclose it stays mapped, and loads again (got: $result)"
    fi
else
    fail "the dlclose check builds: $(cat "$work/cc.log")"
fi
rm -rf "$work"

# Every NEEDED library resolves on this system.
unresolved=$(ldd "$LIB" 2>&1 | grep 'not found' || true)
if [ -z "$unresolved" ]; then
    pass "every NEEDED library resolves"
else
    fail "every NEEDED library resolves: $(echo $unresolved)"
fi

summary_and_exit
