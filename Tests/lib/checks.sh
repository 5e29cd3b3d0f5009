# Tests/lib/checks.sh: the counting every shell suite shares. Source it, then:
#   pass TEXT / fail TEXT         one check, printed as "ok    TEXT" / "FAIL  TEXT"
#   check TEXT COMMAND...         one check, passing when COMMAND succeeds
#   show FILE [LINES]             a log's last LINES (default 40) lines, indented
#   summary_and_exit              prints "N passed, M failed" (the line
#                                 Tests/run-all.sh counts) and exits 0 or 1

passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }

check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

show() { sed 's/^/      /' "$1" | tail -n "${2:-40}"; }

summary_and_exit() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}
