# Tests/lib/mock.sh: start and stop the stand-in server, for test scripts.
# Source it, then:
#   start_mock MOCK DIR [ARG...]
#                         starts MOCK (--port 0, token mock-token, the default
#                         fixtures, then ARGs; run from the repository root), its output
#                         in DIR/mock.stdout and DIR/mock.stderr; sets MOCK_PID
#                         and, once the server has announced its address, URL.
#                         Returns non-zero (URL empty) if it does not within 30 s.
#   stop_mock             stops it; safe to call twice (e.g. also from a trap).

MOCK_PID=
URL=

start_mock() {
    local mock=$1 dir=$2 line
    shift 2
    URL=
    "$mock" --port 0 --token mock-token --fixtures examples/fixtures/integrations.json "$@" \
        >"$dir/mock.stdout" 2>"$dir/mock.stderr" &
    MOCK_PID=$!
    for _ in $(seq 1 300); do
        if [ -s "$dir/mock.stdout" ]; then
            line=$(head -n 1 "$dir/mock.stdout")
            case "$line" in
                "membrane-mock listening on http://127.0.0.1:"[0-9]*) URL=${line#membrane-mock listening on } ;;
                *) echo "the stand-in server's first line is unexpected: $line" >&2 ;;
            esac
            break
        fi
        if ! kill -0 "$MOCK_PID" 2>/dev/null; then
            echo "the stand-in server exited early:" >&2
            cat "$dir/mock.stderr" >&2
            break
        fi
        sleep 0.1
    done
    [ -n "$URL" ]
}

stop_mock() {
    if [ -n "$MOCK_PID" ]; then
        kill "$MOCK_PID" 2>/dev/null
        wait "$MOCK_PID" 2>/dev/null
        MOCK_PID=
    fi
}
