"""Runs rows (a) to (e) against every server, their repetitions interleaved.

    python3 bench/driver.py --raw DIR --bin DIR --token T --user-agent UA
                            [--python PY] [--node NODE] [--rounds R] [--rows a,b,c,d,e]
                            [--cache-server NAME] [--cache-ttl-ms MS]
                            --server NAME=URL [--server NAME=URL ...]

--rows picks which of (a) to (e) run against every server (all by default).
--cache-server NAME adds, against that server only, the cache rows of
bench/bench_cache.c: "hit" (row (a)'s loop answered from the cache,
MEMBRANE_OPT_CACHE_TTL_MS = --cache-ttl-ms, default one hour), "text"
(membrane_integration_get_text with the cache off) and "hit-text" (the same
from the cache). Their lookup baselines are (a) and "text", so (a) should be
among --rows.

Every row is one long-lived process started with BENCH_SERVE=1 (see
bench/bench_common.h): it opens its connection, warms up, picks its N and
says it is ready. Then R rounds: in each, every row runs one repetition of N
lookups, one row at a time (the others wait, idle, on their stdin), in an
order rotated from round to round. So a burst of load from elsewhere on the
machine lands on all rows alike, not on one, and the ratios stay fair.

Writes DIR/<server>-<row>.json: {"n": N, "reps_us": [...], "reps_cpu_us": [...],
"median_us": ..., "median_cpu_us": ...} (wall and client-process CPU
microseconds per lookup, per round, and their medians).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent


def commands(args: argparse.Namespace, server: str, url: str) -> List[Tuple[str, List[str]]]:
    rows = [
        ("a", [str(args.bin / "bench_membrane"), url, args.token, "hubspot"]),
        ("b", [str(args.bin / "bench_curl"), url, args.token, args.user_agent, "hubspot"]),
        ("c", [args.python, str(REPO / "bench" / "bench_python.py"), "membrane", url, args.token, "hubspot"]),
        ("d", [args.python, str(REPO / "bench" / "bench_python.py"), "requests", url, args.token, "hubspot"]),
        ("e", [args.node, str(REPO / "bench" / "bench_fetch.mjs"), url, args.token, "hubspot"]),
    ]
    chosen = [(key, cmd) for key, cmd in rows if key in args.rows.split(",")]
    if server == args.cache_server:
        cache = str(args.bin / "bench_cache")
        ttl = str(args.cache_ttl_ms)
        chosen += [
            ("hit", [cache, url, args.token, "get", ttl, "hubspot"]),
            ("text", [cache, url, args.token, "text", "0", "hubspot"]),
            ("hit-text", [cache, url, args.token, "text", ttl, "hubspot"]),
        ]
    return chosen


def read_json(name: str, process: subprocess.Popen) -> dict:
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"bench: row {name} ended early (exit {process.wait()})")
    return json.loads(line)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True, type=Path)
    parser.add_argument("--bin", required=True, type=Path)
    parser.add_argument("--token", required=True)
    parser.add_argument("--user-agent", required=True)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--node", default="node")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_REPS", "7")))
    parser.add_argument("--server", action="append", required=True, help="NAME=URL")
    parser.add_argument("--rows", default="a,b,c,d,e", help="which of a..e to run against every server")
    parser.add_argument("--cache-server", default=None, help="the server to run the cache rows against")
    parser.add_argument("--cache-ttl-ms", type=int, default=3_600_000)
    args = parser.parse_args()

    # A TERM (bench/run.sh stopping) ends this like Ctrl-C does: the rows are killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = dict(os.environ, BENCH_SERVE="1")
    finished = False
    rows: List[Tuple[str, subprocess.Popen]] = []
    n: Dict[str, int] = {}
    try:
        for spec in args.server:
            server, url = spec.split("=", 1)
            for key, cmd in commands(args, server, url):
                name = f"{server}-{key}"
                print(f"[bench] warming up {name}", file=sys.stderr, flush=True)
                process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           text=True, env=env, cwd=REPO)
                rows.append((name, process))
                ready = read_json(name, process)
                n[name] = ready["n"]
        reps: Dict[str, List[float]] = {name: [] for name, _ in rows}
        cpu: Dict[str, List[float]] = {name: [] for name, _ in rows}
        for r in range(args.rounds):
            print(f"[bench] round {r + 1} of {args.rounds}", file=sys.stderr, flush=True)
            shift = r % len(rows)
            for name, process in rows[shift:] + rows[:shift]:
                process.stdin.write("run\n")
                process.stdin.flush()
                answer = read_json(name, process)
                reps[name].append(answer["us"])
                cpu[name].append(answer["cpu_us"])
        finished = True
    finally:
        for _, process in rows:
            if not finished:
                process.kill()
            try:
                process.stdin.close()
            except OSError:
                pass
        for _, process in rows:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    args.raw.mkdir(parents=True, exist_ok=True)
    for name, values in reps.items():
        result = {"n": n[name], "reps_us": values, "reps_cpu_us": cpu[name],
                  "median_us": round(statistics.median(values), 3),
                  "median_cpu_us": round(statistics.median(cpu[name]), 3)}
        (args.raw / f"{name}.json").write_text(json.dumps(result) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
