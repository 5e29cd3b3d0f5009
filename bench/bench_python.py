"""Rows (c) and (d): one lookup of a selector from Python, in a loop.

    python3 bench/bench_python.py membrane URL TOKEN [SELECTOR]   (c) python/membrane
    python3 bench/bench_python.py requests URL TOKEN [SELECTOR]   (d) requests.Session + resp.json()

Measured as the C rows are (see bench_common.h: warm-up, then BENCH_REPS
repetitions of N lookups, N chosen so one takes about BENCH_REP_SECONDS);
prints one line of JSON: {"n": N, "reps_us": [...], "reps_cpu_us": [...],
"median_us": ..., "median_cpu_us": ...} (CPU: time.process_time()); with
BENCH_SERVE=1 it answers bench/driver.py one repetition at a time instead.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "python"))


def _env(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def run_row(op: Callable[[], object]) -> Optional[dict]:
    warmup = _env("BENCH_WARMUP_SECONDS", 0.3)
    rep_seconds = _env("BENCH_REP_SECONDS", 0.4)
    reps = min(50, int(_env("BENCH_REPS", 5)))
    clock = time.perf_counter
    # Warm-up in chunks of 10; the fastest chunk estimates one lookup (as bench_common.h).
    done = 0
    per_op = float("inf")
    start = clock()
    while True:
        chunk = clock()
        for _ in range(10):
            op()
        done += 10
        now = clock()
        per_op = min(per_op, (now - chunk) / 10)
        if now - start >= warmup and done >= 20:
            break
    n = max(50, min(5_000_000, int(rep_seconds / per_op)))

    def repetition() -> dict:
        t0, c0 = clock(), time.process_time()
        for _ in range(n):
            op()
        return {"us": round((clock() - t0) * 1e6 / n, 3),
                "cpu_us": round((time.process_time() - c0) * 1e6 / n, 3)}

    if os.environ.get("BENCH_SERVE") == "1":  # driven by bench/driver.py (see bench_common.h)
        print(json.dumps({"ready": True, "n": n}), flush=True)
        for line in sys.stdin:
            if not line.startswith("run"):
                break
            print(json.dumps(repetition()), flush=True)
        return None
    results = [repetition() for _ in range(reps)]
    reps_us = [r["us"] for r in results]
    reps_cpu_us = [r["cpu_us"] for r in results]
    return {"n": n, "reps_us": reps_us, "reps_cpu_us": reps_cpu_us,
            "median_us": round(statistics.median(reps_us), 3),
            "median_cpu_us": round(statistics.median(reps_cpu_us), 3)}


def main() -> int:
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("membrane", "requests"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, url, token = sys.argv[1:4]
    selector = sys.argv[4] if len(sys.argv) == 5 else "hubspot"

    if kind == "membrane":
        import membrane

        client = membrane.Client(url, token)

        def op() -> object:
            result = client.integration(selector)
            assert result["name"]
            return result
    else:
        import requests

        session = requests.Session()
        endpoint = f"{url}/integrations/{selector}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        params = {"includeSecrets": "false"}

        def op() -> object:
            resp = session.get(endpoint, headers=headers, params=params, timeout=30)
            resp.raise_for_status()
            result = resp.json()
            assert result["name"]
            return result

    result = run_row(op)
    if result is not None:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
