#!/usr/bin/env bash
# Tests/sqlite/run.sh: the SQLite extension (examples/sqlite/), loaded into
# the sqlite3 command-line tool the way its users load it, against the
# stand-in server.
#
#   - `.load .build/examples/membrane_sqlite` (SQLite finds the .so and the
#     entry point from the file name); the .so exports nothing else.
#   - membrane_integration(selector [, include_secrets]) gives the JSON the
#     fixtures hold (read from examples/fixtures/integrations.json), over
#     several rows of one query too, through one client and one kept-alive
#     connection; secrets only when asked for.
#   - Not found is NULL. A wrong token, no token, a server that is down and
#     an empty selector are SQL errors carrying the library's own message
#     (as membrane-get prints it for the same case), never the token.
#   - Arguments of the wrong type are clear SQL errors, and the function
#     cannot be used from a view (SQLITE_DIRECTONLY).
#   - Under valgrind, closing the connection leaves nothing definitely lost.
#
# Prints ok/FAIL per check and ends with `N passed, M failed`; exits
# non-zero on any failure.
#
# Environment:
#   MEMBRANE_MOCK   the stand-in server's binary (default .build/mock/debug/membrane-mock)
#   PYTHON          reads the fixtures (default python3)
set -u

cd "$(dirname "$0")/../.." || exit 2
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
PYTHON=${PYTHON:-python3}
EXTENSION=.build/examples/membrane_sqlite # as a user types it: no .so
MEMBRANE_GET=.build/examples/membrane-get  # says what the library's message is
FIXTURES=examples/fixtures/integrations.json
TOKEN=mock-token # the token Tests/lib/mock.sh starts the stand-in server with

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

unset LD_LIBRARY_PATH LD_PRELOAD MEMBRANE_API_URL MEMBRANE_TOKEN

for needed in "$EXTENSION.so" "$MEMBRANE_GET"; do
    if [ ! -f "$needed" ]; then
        fail "$needed exists (run make)"
        summary_and_exit
    fi
done
if ! command -v sqlite3 >/dev/null; then
    fail "the sqlite3 command-line tool is installed (make test-deps installs it)"
    summary_and_exit
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/membrane-sqlite.XXXXXX")

exported=$(nm -D --defined-only "$EXTENSION.so" | awk '$2 ~ /^[A-Z]$/ && $2 != "A" {print $3}' | sort | tr '\n' ' ')
check "the extension exports only its entry point (got: $exported)" \
    test "$exported" = "sqlite3_membranesqlite_init "
check "the extension is marked NODELETE (SQLite's unloading must not unload the Swift runtime)" \
    bash -c 'readelf -d "$1" | grep -q "Flags:.*NODELETE"' _ "$EXTENSION.so"

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

# fixture SELECTOR PATH...: a value from the fixtures, e.g. fixture hubspot state.
fixture() {
    "$PYTHON" -c '
import json, sys
value = next(i for i in json.load(open(sys.argv[1]))["integrations"] if i.get("key") == sys.argv[2])
for part in sys.argv[3:]:
    value = value[part]
print(value)' "$FIXTURES" "$@"
}

# sql QUERY [TOKEN [API_URL]]: runs QUERY in `sqlite3 :memory:` with the
# extension loaded; an empty TOKEN leaves MEMBRANE_TOKEN unset. Leaves
# $WORK/sql.out, $WORK/sql.err and SQL_STATUS.
sql() {
    local query=$1 token=${2-$TOKEN} url=${3-$URL}
    local -a vars=(MEMBRANE_API_URL="$url")
    [ -n "$token" ] && vars+=(MEMBRANE_TOKEN="$token")
    env "${vars[@]}" timeout 60 sqlite3 -batch -bail -cmd ".load $EXTENSION" -cmd '.nullvalue <NULL>' \
        :memory: "$query" >"$WORK/sql.out" 2>"$WORK/sql.err"
    SQL_STATUS=$?
}
# library_message SELECTOR [TOKEN [API_URL]]: what the library says for the
# same lookup, through membrane-get.
library_message() {
    local selector=$1 token=${2-$TOKEN} url=${3-$URL}
    local -a vars=()
    [ -n "$token" ] && vars+=(MEMBRANE_TOKEN="$token")
    env "${vars[@]}" timeout 60 "$MEMBRANE_GET" --api-url "$url" -- "$selector" 2>&1 >/dev/null |
        sed -n 's/^membrane-get: //p' | head -n 1
}
# digits_as_n: the same text with every number as N (timings vary).
digits_as_n() { sed 's/[0-9][0-9]*/N/g'; }

# sql_error WHAT QUERY MESSAGE [TOKEN [API_URL]]: QUERY fails with an SQL
# error that holds MESSAGE (numbers aside) and not the token.
sql_error() {
    local what=$1 query=$2 message=$3
    shift 3
    sql "$query" "$@"
    local token=${1-$TOKEN}
    if [ -z "$message" ]; then
        fail "$what: the library's message is known (membrane-get said nothing)"
    elif [ "$SQL_STATUS" -ne 0 ] && [ ! -s "$WORK/sql.out" ] &&
        digits_as_n <"$WORK/sql.err" | grep -qF -- "membrane_integration: $(printf '%s' "$message" | digits_as_n)"; then
        if [ -n "$token" ] && grep -qF -- "$token" "$WORK/sql.out" "$WORK/sql.err"; then
            fail "$what: the token appears in the output"
        else
            pass "$what: an SQL error with the library's message ($message)"
        fi
    else
        fail "$what: want an SQL error holding '$message'; status $SQL_STATUS"
        show "$WORK/sql.out"
        show "$WORK/sql.err"
    fi
}

# ---------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------
state=$(fixture hubspot state)
sql "select json_extract(membrane_integration('hubspot'), '\$.state');"
check "select json_extract(membrane_integration('hubspot'), '\$.state'): $state (got '$(head -c 100 "$WORK/sql.out")')" \
    test "$SQL_STATUS" -eq 0 -a "$(cat "$WORK/sql.out")" = "$state"
check "no token in the output of a lookup" bash -c '! grep -qF -- "$1" "$2" "$3"' _ "$TOKEN" "$WORK/sql.out" "$WORK/sql.err"

sql "select json_valid(membrane_integration('hubspot')), json_extract(membrane_integration('hubspot'), '\$.id');"
check "the result is valid JSON with hubspot's id" test "$(cat "$WORK/sql.out")" = "1|$(fixture hubspot id)"

sql "select k, json_extract(membrane_integration(k), '\$.name') from (select 'hubspot' as k union all select 'salesforce' union all select 'nope') order by k;"
want=$(printf '%s\n' "hubspot|$(fixture hubspot name)" "nope|<NULL>" "salesforce|$(fixture salesforce name)")
if [ "$SQL_STATUS" -eq 0 ] && [ "$(cat "$WORK/sql.out")" = "$want" ]; then
    pass "one query over three rows: each row's integration, NULL for the missing one"
else
    fail "one query over three rows: status $SQL_STATUS"
    show "$WORK/sql.out"
    show "$WORK/sql.err"
fi

# One client per connection: five rows' lookups share one kept-alive TCP
# connection. The stand-in counts connections (admin calls over urllib, which
# closes its own; the reading call's connection counts too, hence + 1).
mock_stats() {
    "$PYTHON" -c 'import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1] + "/_mock/stats", method=sys.argv[2])
print(json.load(urllib.request.urlopen(request, timeout=10))["connectionsOpened"])' "$URL" "$1"
}
mock_stats DELETE >/dev/null
sql "select count(membrane_integration(k)) from (select 'hubspot' as k union all select 'salesforce' union all select 'hubspot' union all select 'notion' union all select 'hubspot');"
opened=$(mock_stats GET)
check "five rows' lookups: 5 results over one TCP connection, the connection's one client (opened: $opened, one the stats call's)" \
    test "$(cat "$WORK/sql.out")" = 5 -a "$opened" = 2

secret=$(fixture hubspot parameters clientSecret)
sql "select json_extract(membrane_integration('hubspot', 1), '\$.parameters.clientSecret'), json_extract(membrane_integration('hubspot', 0), '\$.parameters.clientSecret') = '$secret';"
check "include_secrets 1 gives the clientSecret; 0 does not" test "$(cat "$WORK/sql.out")" = "$secret|0"

sql "select typeof(membrane_integration('nope')), membrane_integration('nope') is null;"
check "a missing selector gives NULL, not an error (got '$(head -c 100 "$WORK/sql.out")')" \
    test "$SQL_STATUS" -eq 0 -a "$(cat "$WORK/sql.out")" = "null|1"

# Closing the connection frees its client: under valgrind, nothing is
# definitely lost (a client left behind would be). Only leaks count: glibc's
# loader reports reads of its own in dlopen here.
if command -v valgrind >/dev/null; then
    sql "select length(membrane_integration('hubspot')), membrane_integration('nope') is null;"
    without_valgrind=$(cat "$WORK/sql.out")
    env MEMBRANE_API_URL="$URL" MEMBRANE_TOKEN="$TOKEN" timeout 300 valgrind --leak-check=full \
        --show-leak-kinds=definite sqlite3 -batch -cmd ".load $EXTENSION" :memory: \
        "select length(membrane_integration('hubspot')), membrane_integration('nope') is null;" \
        >"$WORK/valgrind.out" 2>"$WORK/valgrind.log"
    if grep -qE 'definitely lost: 0 bytes in 0 blocks|no leaks are possible' "$WORK/valgrind.log" &&
        [ "$(cat "$WORK/valgrind.out")" = "$without_valgrind" ] && [ -n "$without_valgrind" ]; then
        pass "under valgrind: the lookups work and nothing is definitely lost at close"
    else
        fail "under valgrind: the lookups work and nothing is definitely lost at close"
        show "$WORK/valgrind.out"
        grep -E 'definitely lost|ERROR SUMMARY' "$WORK/valgrind.log" | tail -n 5 | sed 's/^/      /'
    fi
else
    fail "valgrind is installed (make test-deps installs it)"
fi

# ---------------------------------------------------------------------------
# Failures: the library's message, as an SQL error
# ---------------------------------------------------------------------------
bad_token=sqlite-wrong-token-$$
sql_error "a wrong token (401)" "select membrane_integration('hubspot');" \
    "$(library_message hubspot "$bad_token")" "$bad_token"
sql_error "no token configured" "select membrane_integration('hubspot');" \
    "$(library_message hubspot "")" ""
sql_error "an empty selector" "select membrane_integration('');" "$(library_message "")"
stopped_url=$URL
stop_mock # from here on, nothing listens there
sql_error "the server is down" "select membrane_integration('hubspot');" \
    "$(library_message hubspot "$TOKEN" "$stopped_url")" "$TOKEN" "$stopped_url"

# ---------------------------------------------------------------------------
# Arguments (no request is made: the server is down by now)
# ---------------------------------------------------------------------------
for argument in NULL 42 "x'68756273706f74'"; do
    sql "select membrane_integration($argument);"
    check "membrane_integration($argument): an SQL error saying the selector must be text" \
        grep -q "membrane_integration: the selector must be text" "$WORK/sql.err"
done
sql "select membrane_integration('hub' || char(0) || 'spot');"
check "a selector holding a NUL: an SQL error" grep -q "membrane_integration: the selector holds a NUL" "$WORK/sql.err"
for argument in 2 "'yes'" NULL; do
    sql "select membrane_integration('hubspot', $argument);"
    check "include_secrets $argument: an SQL error saying it must be 0 or 1" \
        grep -q "membrane_integration: include_secrets must be 0 or 1" "$WORK/sql.err"
done
sql "select membrane_integration('a', 0, 1);"
check "three arguments: an SQL error" test "$SQL_STATUS" -ne 0 -a -s "$WORK/sql.err"
sql "create view lookups as select membrane_integration('hubspot'); select * from lookups;"
check "not usable from a view (SQLITE_DIRECTONLY): 'unsafe use'" grep -q "unsafe use of membrane_integration" "$WORK/sql.err"

summary_and_exit
