"""Lookups from one asyncio thread, many in flight: the package's AsyncClient
against aiohttp and httpx.

    python3 bench/bench_asyncio.py URL TOKEN FIXTURES [--lookups 1000] [--concurrency 100]
                                   [--rounds R] [--loops asyncio,uvloop]
                                   [--uvloop-variants membrane,aiohttp]

One batch = LOOKUPS lookups with CONCURRENCY in flight at once (CONCURRENCY
worker tasks pulling selectors from one shared iterator), the selectors
cycling through every id, uuid and key of FIXTURES (so every lookup is
found). Each variant gets the body of GET URL/integrations/<selector>?includeSecrets=false
as a dict:

    membrane  ``await membrane.AsyncClient(...).integration(selector)``: the
              library's *_async call, its completion fd watched with
              loop.add_reader (MEMBRANE_OPT_MAX_PARALLEL = CONCURRENCY), with
              share_requests off: with 100 lookups in flight over 45
              selectors, those of one selector would otherwise share a
              request, while aiohttp and httpx send one per lookup
    aiohttp   one ClientSession, TCPConnector(limit=CONCURRENCY); GET,
              raise_for_status(), json.loads(await resp.text())
    httpx     one httpx.AsyncClient(limits=Limits(max_connections=CONCURRENCY,
              max_keepalive_connections=CONCURRENCY)); GET, raise_for_status(),
              json.loads(resp.text)

So every variant may use up to CONCURRENCY connections. Every variant runs
on asyncio's default loop; under uvloop (when installed) those of
--uvloop-variants do (not httpx by default: with 100 connections its pool
spends milliseconds of CPU per request, so its batches take seconds and
uvloop changes nothing there). Each row has its own client. After one warm-up batch per row (connections open), R
rounds: in each, every row runs one batch, in an order rotated from round to
round, so load from elsewhere on the machine lands on all rows alike.

Prints one line of JSON: {"lookups", "concurrency", "max_parallel",
"selectors", "rounds", "versions", "skipped": {row: why},
"rows": {"<loop>-<variant>": {"reps_per_s": [...], "reps_cpu_us": [...],
"median_per_s", "median_cpu_us"}}}. CPU: time.process_time() per lookup (the
whole process, the library's I/O thread included).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "python"))

Lookup = Callable[[str], Awaitable[Dict[str, Any]]]


def selectors_of(fixtures: Path) -> List[str]:
    items = json.loads(fixtures.read_text(encoding="utf-8"))["integrations"]
    found: List[str] = []
    for item in items:
        for field in ("id", "uuid", "key"):
            value = item.get(field)
            # the ones bench/serve_fixtures.py writes as nginx's static files
            if isinstance(value, str) and value and "/" not in value and not value.startswith(".") \
                    and value not in found:
                found.append(value)
    return found


async def batch(lookup: Lookup, selectors: List[str], lookups: int, concurrency: int) -> None:
    """LOOKUPS lookups, CONCURRENCY at a time."""
    order = iter(range(lookups))
    count = len(selectors)

    async def worker() -> None:
        for i in order:  # shared: each index is taken by one worker
            result = await lookup(selectors[i % count])
            if not isinstance(result.get("name"), str):
                raise SystemExit(f"bench_asyncio: no name in the answer for {selectors[i % count]!r}")

    await asyncio.gather(*(worker() for _ in range(min(concurrency, lookups))))


# -- the variants: each makes (lookup, close) inside a running loop -------------

async def make_membrane(url: str, token: str, concurrency: int) -> Tuple[Lookup, Callable[[], Awaitable[None]]]:
    import membrane

    try:
        client = membrane.AsyncClient(url, token, max_parallel=concurrency)
    except TypeError:  # no max_parallel keyword: set it as on the blocking Client
        client = membrane.AsyncClient(url, token)
        client.set_max_parallel(concurrency)
    # One request per lookup, as aiohttp and httpx (see the top of this file).
    set_share = getattr(client, "set_share_requests", None)
    if set_share is not None:
        set_share(False)

    async def lookup(selector: str) -> Dict[str, Any]:
        return await client.integration(selector)

    async def close() -> None:
        closing = getattr(client, "aclose", None) or client.close
        result = closing()
        if inspect.isawaitable(result):
            await result

    return lookup, close


async def make_aiohttp(url: str, token: str, concurrency: int) -> Tuple[Lookup, Callable[[], Awaitable[None]]]:
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    params = {"includeSecrets": "false"}
    timeout = aiohttp.ClientTimeout(total=30)

    async def lookup(selector: str) -> Dict[str, Any]:
        endpoint = f"{url}/integrations/{urllib.parse.quote(selector, safe='')}"
        async with session.get(endpoint, headers=headers, params=params, timeout=timeout) as resp:
            resp.raise_for_status()
            return json.loads(await resp.text())

    return lookup, session.close


async def make_httpx(url: str, token: str, concurrency: int) -> Tuple[Lookup, Callable[[], Awaitable[None]]]:
    import httpx

    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency,
                                                   max_keepalive_connections=concurrency),
                               timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    params = {"includeSecrets": "false"}

    async def lookup(selector: str) -> Dict[str, Any]:
        resp = await client.get(f"{url}/integrations/{urllib.parse.quote(selector, safe='')}",
                                headers=headers, params=params)
        resp.raise_for_status()
        return json.loads(resp.text)

    return lookup, client.aclose


VARIANTS = [("membrane", make_membrane), ("aiohttp", make_aiohttp), ("httpx", make_httpx)]


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def versions() -> Dict[str, str]:
    import importlib.metadata as metadata

    found = {"python": sys.version.split()[0]}
    for name in ("aiohttp", "httpx", "uvloop"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("fixtures", type=Path)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ASYNCIO_REPS", "5")))
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--uvloop-variants", default="membrane,aiohttp")
    args = parser.parse_args()
    selectors = selectors_of(args.fixtures)

    skipped: Dict[str, str] = {}
    loops: List[Tuple[str, asyncio.AbstractEventLoop]] = []
    for kind in args.loops.split(","):
        try:
            loops.append((kind, new_loop(kind)))
        except ImportError as e:
            skipped[kind] = f"not installed ({e.name})"

    # rows: (name, loop, lookup, close), each client made inside its own loop
    rows: List[Tuple[str, asyncio.AbstractEventLoop, Lookup, Callable[[], Awaitable[None]]]] = []
    for kind, loop in loops:
        for variant, make in VARIANTS:
            name = f"{kind}-{variant}"
            if kind == "uvloop" and variant not in args.uvloop_variants.split(","):
                continue
            try:
                lookup, close = loop.run_until_complete(make(args.url, args.token, args.concurrency))
            except ImportError as e:
                skipped[name] = f"not installed ({e.name})"
                continue
            except AttributeError as e:  # e.g. a package without AsyncClient yet
                skipped[name] = f"unavailable ({e})"
                continue
            rows.append((name, loop, lookup, close))

    def one_batch(loop: asyncio.AbstractEventLoop, lookup: Lookup) -> Tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        loop.run_until_complete(batch(lookup, selectors, args.lookups, args.concurrency))
        return time.perf_counter() - t0, time.process_time() - c0

    per_s: Dict[str, List[float]] = {name: [] for name, *_ in rows}
    cpu_us: Dict[str, List[float]] = {name: [] for name, *_ in rows}
    try:
        for name, loop, lookup, _ in rows:
            print(f"[bench_asyncio] warming up {name}", file=sys.stderr, flush=True)
            one_batch(loop, lookup)
        for r in range(args.rounds):
            shift = r % len(rows) if rows else 0
            for name, loop, lookup, _ in rows[shift:] + rows[:shift]:
                wall, cpu = one_batch(loop, lookup)
                per_s[name].append(round(args.lookups / wall, 1))
                cpu_us[name].append(round(cpu * 1e6 / args.lookups, 2))
            print(f"[bench_asyncio] round {r + 1} of {args.rounds}: " +
                  ", ".join(f"{name} {per_s[name][-1]:,.0f}/s" for name, *_ in rows), file=sys.stderr, flush=True)
    finally:
        for name, loop, _, close in rows:
            loop.run_until_complete(close())
        for _, loop in loops:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    result = {
        "lookups": args.lookups, "concurrency": args.concurrency, "max_parallel": args.concurrency,
        "selectors": len(selectors), "rounds": args.rounds, "versions": versions(), "skipped": skipped,
        "rows": {name: {"reps_per_s": per_s[name], "reps_cpu_us": cpu_us[name],
                        "median_per_s": round(statistics.median(per_s[name]), 1),
                        "median_cpu_us": round(statistics.median(cpu_us[name]), 2)}
                 for name, *_ in rows if per_s[name]},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
