#!/usr/bin/env bash
# make bench: one run of every benchmark against the same local servers, a
# table on stdout and in .build/bench/results.md (see bench/README.md).
#
# Needs what `make build` makes (.build/release/libmembrane.so,
# .build/mock/debug/membrane-mock), cc, nginx, python3 with requests, aiohttp
# and httpx (uvloop optional), node >= 18.
# Only 127.0.0.1 is used. Knobs (environment): BENCH_REPS (15 interleaved
# rounds), BENCH_REP_SECONDS (0.2), BENCH_WARMUP_SECONDS (0.3),
# BENCH_THREAD_SECONDS (0.4), BENCH_THREAD_REPS (9), BENCH_CALLGRIND_LOOKUPS (300),
# BENCH_MEMORY_LOOKUPS (100000), BENCH_ASYNCIO_REPS (5), BENCH_ASYNC_REPS (3),
# BENCH_ASYNC_LOOKUPS (10000), BENCH_ASYNC_PARALLEL ("16 64"), BENCH_SHARING_ROUNDS (20),
# BENCH_SHARING_DELAY_MS (50), BENCH_CACHE_TTL_MS (3600000).
#
# BENCH_ONLY runs a subset: one or more of the names below, separated by
# spaces or commas (default: all of them). results.md then says "(no result)"
# for the rest.
#   single        rows (a)-(e), both servers (bench/driver.py)
#   cache         cache hits against lookups, nginx (bench_cache.c; with row (a)
#                 against nginx, interleaved with the single rows when both run)
#   asyncio       bench_asyncio.py          batch         bench_batch.c
#   async         bench_async.c             instructions  callgrind counts
#   threads       bench_threads.c           sharing       bench_sharing.c
#   memory        bench_memory.c
# e.g. BENCH_ONLY="cache sharing threads" bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

LIB_DIR=.build/release
LIBRARY=$LIB_DIR/libmembrane.so
MOCK=${MEMBRANE_MOCK:-.build/mock/debug/membrane-mock}
FIXTURES=examples/fixtures/integrations.json
TOKEN=mock-token
OUT=.build/bench
RAW=$OUT/raw
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
PYTHON=${PYTHON:-python3}
NODE=${NODE:-node}
CC=${CC:-cc}
export MEMBRANE_LIBRARY=$ROOT/$LIBRARY
export BENCH_REPS=${BENCH_REPS:-15} BENCH_REP_SECONDS=${BENCH_REP_SECONDS:-0.2}
export BENCH_WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-0.3} BENCH_THREAD_SECONDS=${BENCH_THREAD_SECONDS:-0.4}
BENCH_CALLGRIND_LOOKUPS=${BENCH_CALLGRIND_LOOKUPS:-300}
export BENCH_THREAD_REPS=${BENCH_THREAD_REPS:-9}
BENCH_ASYNCIO_REPS=${BENCH_ASYNCIO_REPS:-5}
BENCH_ASYNC_REPS=${BENCH_ASYNC_REPS:-3} BENCH_ASYNC_LOOKUPS=${BENCH_ASYNC_LOOKUPS:-10000}
BENCH_ASYNC_PARALLEL=${BENCH_ASYNC_PARALLEL:-16 64}
BENCH_SHARING_ROUNDS=${BENCH_SHARING_ROUNDS:-20} BENCH_SHARING_DELAY_MS=${BENCH_SHARING_DELAY_MS:-50}
export BENCH_CACHE_TTL_MS=${BENCH_CACHE_TTL_MS:-3600000}
SECTIONS="single cache asyncio batch async instructions threads sharing memory"
BENCH_ONLY=${BENCH_ONLY:-}
for part in ${BENCH_ONLY//,/ }; do
  case " $SECTIONS " in *" $part "*) ;; *) echo "bench: BENCH_ONLY: unknown part '$part' (one of: $SECTIONS)" >&2; exit 2 ;; esac
done
# want PART: whether BENCH_ONLY (empty: everything) selects PART.
want() {
  [ -z "${BENCH_ONLY//[ ,]/}" ] && return 0
  case " ${BENCH_ONLY//,/ } " in *" $1 "*) return 0 ;; esac
  return 1
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

for f in "$LIBRARY" "$LIB_DIR/libmembrane.so.0" "$MOCK"; do
  [ -e "$f" ] || { echo "bench: $f is missing: run 'make build' first" >&2; exit 1; }
done
[ -x "$NGINX" ] || { echo "bench: nginx not found (apt-get install nginx-light)" >&2; exit 1; }
if want single; then
  "$PYTHON" -c 'import requests' || { echo "bench: python3 needs requests" >&2; exit 1; }
  "$NODE" -e 'if (typeof fetch !== "function") process.exit(1)' ||
    { echo "bench: node with a built-in fetch (>= 18) is needed" >&2; exit 1; }
fi
if want asyncio; then
  "$PYTHON" -c 'import aiohttp, httpx' 2>/dev/null ||
    { echo "bench: python3 needs aiohttp and httpx for the asyncio rows: $PYTHON -m pip install aiohttp httpx uvloop" >&2; exit 1; }
  "$PYTHON" -c 'import uvloop' 2>/dev/null ||
    echo "bench: uvloop is not installed: no uvloop rows ($PYTHON -m pip install uvloop)" >&2
fi

step() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
# Runs one benchmark in the background and waits for it: bash runs a trap only
# once a foreground command ends, but interrupts `wait` at once, so Ctrl-C or
# a TERM stops the run (and the servers) promptly.
run() {
  "$@" &
  STEP_PID=$!
  wait "$STEP_PID"
  STEP_PID=
}

mkdir -p "$RAW"
rm -f "$RAW"/*.json "$OUT/results.md"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/membrane-bench.XXXXXX")
MOCK_PID=
NGINX_PID=
STEP_PID=
cleanup() {
  set +e
  if [ -n "$STEP_PID" ]; then kill "$STEP_PID" 2>/dev/null; wait "$STEP_PID" 2>/dev/null; fi
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; fi
  if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build the C benchmarks -------------------------------------------------
step "compiling bench/*.c into $OUT"
for name in bench_membrane bench_curl bench_cache bench_threads bench_sharing bench_memory bench_batch bench_async; do
  "$CC" -O2 -std=gnu99 -Wall -Wextra -I Include "bench/$name.c" -o "$OUT/$name" -pthread \
    -L "$LIB_DIR" -lmembrane -ljansson -lcurl -Wl,-rpath,"$ROOT/$LIB_DIR"
done
USER_AGENT="libmembrane/$("$OUT/bench_membrane" --version)"

# --- the stand-in server ------------------------------------------------------
step "starting membrane-mock"
"$MOCK" --port 0 --token "$TOKEN" --fixtures "$FIXTURES" --log-level error \
  >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK_PID=$!
line=
for _ in $(seq 150); do
  line=$(head -n 1 "$TMP/mock.out")
  [ -n "$line" ] && break
  kill -0 "$MOCK_PID" 2>/dev/null || { cat "$TMP/mock.err" >&2; echo "bench: membrane-mock exited" >&2; exit 1; }
  sleep 0.1
done
MOCK_URL=${line##* }
case "$MOCK_URL" in http://127.0.0.1:*) ;; *) echo "bench: membrane-mock said: $line" >&2; exit 1 ;; esac

# --- nginx serving the fixtures as static files -------------------------------
step "generating the static fixtures and starting nginx"
# nginx's worker drops root for "nobody": the served tree must be world-readable.
chmod 755 "$TMP"
mkdir -p -m 755 "$TMP/www" "$TMP/logs"
"$PYTHON" bench/serve_fixtures.py generate "$MOCK_URL" "$TOKEN" "$FIXTURES" "$TMP/www" >/dev/null
NGINX_URL=
for attempt in 1 2 3 4 5; do
  port=$("$PYTHON" bench/serve_fixtures.py free-port)
  cat >"$TMP/nginx.conf" <<CONF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000;
    keepalive_timeout 300s;
    open_file_cache max=1000 inactive=300s;
    client_body_temp_path $TMP/client_body;
    proxy_temp_path $TMP/proxy;
    fastcgi_temp_path $TMP/fastcgi;
    uwsgi_temp_path $TMP/uwsgi;
    scgi_temp_path $TMP/scgi;
    types { }
    default_type application/json;
    server {
        listen 127.0.0.1:$port;
        root $TMP/www;
        location /integrations/ { }
    }
}
CONF
  "$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/logs/error.log" -g 'daemon off;' \
    2>>"$TMP/logs/stderr.log" &
  NGINX_PID=$!
  if BODY_BYTES=$("$PYTHON" bench/serve_fixtures.py wait-and-verify "$MOCK_URL" \
       "http://127.0.0.1:$port" "$TOKEN" 10 2>>"$TMP/logs/verify.log"); then
    NGINX_URL=http://127.0.0.1:$port
    break
  fi
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=
done
if [ -z "$NGINX_URL" ]; then
  cat "$TMP/logs/"*.log >&2
  echo "bench: nginx did not come up" >&2
  exit 1
fi

# --- single lookups: rows (a) to (e), both servers, and the cache rows (nginx), interleaved
# The cache rows (bench_cache.c: a cache hit of membrane_integration_get and of
# membrane_integration_get_text, and the text lookup with the cache off) run
# in the same rounds as row (a), their lookup baseline.
if want single; then
  step "single lookups: rows (a)-(e) against nginx and membrane-mock$(want cache && echo ', cache hits against nginx'), $BENCH_REPS interleaved rounds"
  cache_args=()
  if want cache; then cache_args=(--cache-server nginx --cache-ttl-ms "$BENCH_CACHE_TTL_MS"); fi
  run "$PYTHON" bench/driver.py --raw "$RAW" --bin "$OUT" --token "$TOKEN" --user-agent "$USER_AGENT" \
    --python "$PYTHON" --node "$NODE" --rounds "$BENCH_REPS" ${cache_args[@]+"${cache_args[@]}"} \
    --server "nginx=$NGINX_URL" --server "mock=$MOCK_URL"
elif want cache; then
  step "cache hits against lookups: row (a) and the cache rows against nginx, $BENCH_REPS interleaved rounds"
  run "$PYTHON" bench/driver.py --raw "$RAW" --bin "$OUT" --token "$TOKEN" --user-agent "$USER_AGENT" \
    --python "$PYTHON" --node "$NODE" --rounds "$BENCH_REPS" --rows a --cache-server nginx --cache-ttl-ms "$BENCH_CACHE_TTL_MS" \
    --server "nginx=$NGINX_URL"
fi

# --- asyncio: many lookups in flight from one thread (nginx) --------------------
if want asyncio; then
step "asyncio: 1,000 lookups, 100 in flight, one thread: AsyncClient, aiohttp, httpx (nginx), $BENCH_ASYNCIO_REPS rounds"
run "$PYTHON" bench/bench_asyncio.py "$NGINX_URL" "$TOKEN" "$FIXTURES" --lookups 1000 --concurrency 100 \
  --rounds "$BENCH_ASYNCIO_REPS" >"$RAW/asyncio.json"
fi

# --- batch against the stand-in server with a 20 ms delay ---------------------
if want batch; then
  step "batch: 100 distinct selectors, 20 ms per request (membrane-mock)"
  run "$OUT/bench_batch" "$MOCK_URL" "$TOKEN" "$FIXTURES" 20 3 5 16 32 >"$RAW/batch.json"
fi

# --- async from C: all lookups in flight from one thread, 20 ms per request ----
# The stand-in's pid: the benchmark reads its CPU time, to show whether it sets the pace.
if want async; then
  step "async: $BENCH_ASYNC_LOOKUPS lookups in flight from one thread, 20 ms per request, MAX_PARALLEL $BENCH_ASYNC_PARALLEL (membrane-mock)"
  BENCH_SERVER_PID=$MOCK_PID run "$OUT/bench_async" "$MOCK_URL" "$TOKEN" "$FIXTURES" 20 "$BENCH_ASYNC_LOOKUPS" "$BENCH_ASYNC_REPS" \
    $BENCH_ASYNC_PARALLEL >"$RAW/async.json"
fi

# --- instructions per lookup, (a) and (b), and per cache hit, under callgrind (nginx)
# Deterministic where the clocks above are not: the same count on a busy machine.
# hit, text, hit-text: the rows of bench_cache.c (only `lookup` is counted: not
# the lookup that fills the cache).
if ! want instructions; then
  :
elif command -v valgrind >/dev/null; then
  step "instructions per lookup: (a), (b) and the cache rows under callgrind (nginx)"
  for row in a b hit text hit-text; do
    case $row in
      a) cmd=("$OUT/bench_membrane" "$NGINX_URL" "$TOKEN" hubspot) ;;
      b) cmd=("$OUT/bench_curl" "$NGINX_URL" "$TOKEN" "$USER_AGENT" hubspot) ;;
      hit) cmd=("$OUT/bench_cache" "$NGINX_URL" "$TOKEN" get "$BENCH_CACHE_TTL_MS" hubspot) ;;
      text) cmd=("$OUT/bench_cache" "$NGINX_URL" "$TOKEN" text 0 hubspot) ;;
      hit-text) cmd=("$OUT/bench_cache" "$NGINX_URL" "$TOKEN" text "$BENCH_CACHE_TTL_MS" hubspot) ;;
    esac
    BENCH_COUNT=$BENCH_CALLGRIND_LOOKUPS run valgrind --tool=callgrind --toggle-collect=lookup \
      --callgrind-out-file="$TMP/callgrind.$row" "${cmd[@]}" >/dev/null 2>"$TMP/callgrind.$row.log"
    collected=$(sed -n 's/.*Collected : *\([0-9][0-9]*\).*/\1/p' "$TMP/callgrind.$row.log")
    printf '{"lookups": %s, "instructions": %s}\n' "$BENCH_CALLGRIND_LOOKUPS" "${collected:-0}" \
      >"$RAW/instructions-$row.json"
  done
else
  step "valgrind not found: no instruction counts"
fi

# --- threads sharing one client, distinct selectors (nginx) ----------------------
# Each thread asks for selectors no other thread asks for (--distinct): lookups
# of one selector made at once would share a request (MEMBRANE_OPT_SHARE_REQUESTS),
# and the floor's would not.
if want threads; then
  step "threads: 1, 2, 4, 8 threads sharing one client, distinct selectors, and the floor (nginx)"
  run "$OUT/bench_threads" "$NGINX_URL" "$TOKEN" "$USER_AGENT" "$BENCH_THREAD_SECONDS" "$BENCH_THREAD_REPS" \
    --distinct "$FIXTURES" 1 2 4 8 >"$RAW/threads.json"
fi

# --- 8 threads asking for the same selector at once (membrane-mock, delayed) ------
if want sharing; then
  step "sharing: 8 threads, one selector, ${BENCH_SHARING_DELAY_MS} ms per request, $BENCH_SHARING_ROUNDS rounds (membrane-mock)"
  run "$OUT/bench_sharing" "$MOCK_URL" "$TOKEN" hubspot 8 "$BENCH_SHARING_DELAY_MS" "$BENCH_SHARING_ROUNDS" \
    >"$RAW/sharing.json"
fi

# --- memory in one process (nginx) --------------------------------------------
if want memory; then
  step "memory: RSS over ${BENCH_MEMORY_LOOKUPS:-100000} lookups (nginx)"
  run "$OUT/bench_memory" "$NGINX_URL" "$TOKEN" "${BENCH_MEMORY_LOOKUPS:-100000}" >"$RAW/memory.json"
fi

# --- the table -----------------------------------------------------------------
step "writing $OUT/results.md"
"$PYTHON" bench/report.py --raw "$RAW" --out "$OUT/results.md" --library "$LIBRARY" \
  --library-version "${USER_AGENT#libmembrane/}" --body-bytes "$BODY_BYTES" \
  --nginx "$NGINX" --node "$NODE" --cc "$CC" --load-before "$LOAD_BEFORE" --seconds "$SECONDS"
