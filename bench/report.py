"""Turns the raw results of bench/run.sh into one markdown table set.

    python3 bench/report.py --raw DIR --out FILE --library PATH --library-version V
                            --body-bytes N [--nginx PATH] [--node PATH] [--cc PATH]

Reads DIR/{nginx,mock}-{a..e}.json, nginx-{hit,text,hit-text}.json,
instructions-{a,b,hit,text,hit-text}.json, asyncio.json, batch.json,
async.json, threads.json, sharing.json, memory.json (any may be missing:
BENCH_ONLY runs a subset);
prints the markdown and writes it to FILE. Each target is checked and said
to be met or not; nothing here fails the run (benchmarks are reports, not
assertions).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROWS = [
    ("a", "libmembrane from C (`membrane_integration_get` + `json_decref`)", "bench/bench_membrane.c"),
    ("b", "hand-written libcurl + jansson loop, one reused easy handle (the floor)", "bench/bench_curl.c"),
    ("c", "libmembrane from Python (`python/membrane`, `client.integration()` → dict)",
     "bench/bench_python.py"),
    ("d", "Python `requests.Session` + `resp.json()`", "bench/bench_python.py"),
    ("e", "Node v20 built-in `fetch` + `.json()` (keep-alive)", "bench/bench_fetch.mjs"),
]
SERVERS = [("nginx", "nginx (static files, keep-alive)"), ("mock", "membrane-mock (stand-in server)")]


def run(*cmd: str) -> str:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return "?"
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def load_now() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def load(raw: Path, name: str) -> Optional[Any]:
    path = raw / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def yes(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def us(row: Optional[Dict[str, Any]]) -> str:
    if not row:
        return "n/a"
    reps = row["reps_us"]
    return f"{row['median_us']:.1f} ({min(reps):.1f}–{max(reps):.1f})"


def cpu(row: Optional[Dict[str, Any]]) -> str:
    if not row or "median_cpu_us" not in row:
        return "n/a"
    return f"{row['median_cpu_us']:.1f}"


def ratio(x: Optional[Dict[str, Any]], y: Optional[Dict[str, Any]], field: str = "median_us") -> Optional[float]:
    if not x or not y or not y.get(field) or field not in x:
        return None
    return x[field] / y[field]


def paired(x: Optional[Dict[str, Any]], y: Optional[Dict[str, Any]], field: str) -> str:
    """Median (min–max) of the per-round ratios x[r] / y[r]."""
    if not x or not y or not x.get(field) or len(x[field]) != len(y.get(field, [])):
        return "n/a"
    ratios = [a / b for a, b in zip(x[field], y[field]) if b]
    if not ratios:
        return "n/a"
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def fmt_ratio(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def fmt_ratio3(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--library", required=True, type=Path)
    parser.add_argument("--library-version", default="?")
    parser.add_argument("--body-bytes", default="?")
    parser.add_argument("--nginx", default="nginx")
    parser.add_argument("--node", default="node")
    parser.add_argument("--cc", default="cc")
    parser.add_argument("--load-before", default="?", help="/proc/loadavg's first three fields at the start")
    parser.add_argument("--seconds", default="?", help="how long the run took so far")
    args = parser.parse_args()
    raw: Path = args.raw

    rows = {s: {k: load(raw, f"{s}-{k}") for k, _, _ in ROWS} for s, _ in SERVERS}
    batch = load(raw, "batch")
    asyncio_rows = load(raw, "asyncio")
    async_c = load(raw, "async")
    threads = load(raw, "threads")
    sharing = load(raw, "sharing")
    cache_rows = {k: load(raw, f"nginx-{k}") for k in ("hit", "text", "hit-text")}
    memory = load(raw, "memory")
    try:
        requests_version = __import__("requests").__version__
    except ImportError:
        requests_version = "?"

    reps = os.environ.get("BENCH_REPS", "15")
    rep_seconds = os.environ.get("BENCH_REP_SECONDS", "0.2")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    size = args.library.stat().st_size if args.library.exists() else 0
    targets: List[tuple] = []  # (what, target, value, met)
    out: List[str] = []
    w = out.append

    w("# libmembrane benchmarks")
    w("")
    w(f"`bash bench/run.sh` (`make bench`), {now}.")
    w("")
    w("| machine | |")
    w("|---|---|")
    w(f"| `nproc` | {run('nproc')} |")
    w(f"| CPU | {cpu_model()} |")
    w(f"| kernel | {run('uname', '-srm')} |")
    w(f"| date | {now} |")
    w(f"| libmembrane | {args.library_version} (`{args.library}`, release build) |")
    w(f"| libcurl, jansson | {run('curl-config', '--version')}, jansson "
      f"{run('pkg-config', '--modversion', 'jansson')} |")
    w(f"| Python, requests | {platform.python_version()}, {requests_version} |")
    w(f"| Node | {run(args.node, '--version')} |")
    w(f"| nginx | {run(args.nginx, '-v').replace('nginx version: ', '')} |")
    w(f"| C compiler | {run(args.cc, '--version')} (`-O2`) |")
    w(f"| load average (1, 5, 15 min) | {args.load_before} at the start, {load_now()} at the end "
      f"(the run took {args.seconds} s) |")
    w("")
    try:
        busy = max(float(args.load_before.split()[0]), float(load_now().split()[0])) > float(run("nproc"))
    except (ValueError, IndexError):
        busy = False
    if busy:
        w("> The machine was busy with other work during this run (a load average above the number of "
          "cores). Absolute times are pessimistic and noisy; the ratios (every row shares the same "
          "rounds), the CPU columns and the instruction counts are the steadier figures.")
        w("")

    # -- single lookups ------------------------------------------------------
    w("## One lookup, in a loop")
    w("")
    w(f"`GET /integrations/hubspot?includeSecrets=false` ({args.body_bytes}-byte JSON body), over one "
      "kept-alive connection, on 127.0.0.1. Each row is one process that warms up, then runs one "
      f"repetition of N lookups (N chosen so it takes about {rep_seconds} s) in each of {reps} rounds; "
      "a round runs every row, one at a time, so the rows share whatever else the machine is doing. "
      "**µs**: median wall-clock microseconds per lookup over the rounds (min–max of the rounds). "
      "**CPU µs**: the client process's own CPU time (all its threads) per lookup, median; the wall "
      "time adds the server's work and any wait for a core. nginx serves the same bytes as static "
      "files, so its columns show the client's cost; the stand-in server is a debug build and "
      "dominates its columns.")
    w("")
    w("| row | client | nginx µs | nginx CPU µs | membrane-mock µs | membrane-mock CPU µs | N (nginx, mock) |")
    w("|---|---|---:|---:|---:|---:|---|")
    for key, label, source in ROWS:
        cells = []
        for s, _ in SERVERS:
            cells += [us(rows[s][key]), cpu(rows[s][key])]
        ns = ", ".join(str(rows[s][key]["n"]) if rows[s][key] else "n/a" for s, _ in SERVERS)
        w(f"| ({key}) | {label} [`{source}`] | " + " | ".join(cells) + f" | {ns} |")
    w("")
    w("Ratios: of the medians above. **paired**: the median over rounds of the ratio within each round "
      "(both rows measured moments apart), with its range; steadier when the machine's load changes.")
    w("")
    w("| ratio | meaning | target | nginx µs | met | nginx µs, paired (min–max) | nginx CPU µs | membrane-mock µs |")
    w("|---|---|---|---:|---|---:|---:|---:|")
    specs = [
        ("(a)/(b)", "libmembrane's cost over the hand-written floor", "≤ 1.10", "a", "b", lambda v: v <= 1.10),
        ("(c)/(a)", "Python through the package over the C call", "≤ 1.30", "c", "a", lambda v: v <= 1.30),
        ("(d)/(c)", "Python: requests over libmembrane", "≥ 3", "d", "c", lambda v: v >= 3),
        ("(e)/(a)", "Node fetch over libmembrane from C", "≥ 2", "e", "a", lambda v: v >= 2),
    ]
    for name, meaning, target, x, y, check in specs:
        vn = ratio(rows["nginx"][x], rows["nginx"][y])
        vc = ratio(rows["nginx"][x], rows["nginx"][y], "median_cpu_us")
        vm = ratio(rows["mock"][x], rows["mock"][y])
        met = vn is not None and check(vn)
        w(f"| {name} | {meaning} | {target} | {fmt_ratio(vn)} | {yes(met) if vn is not None else 'n/a'} | "
          f"{paired(rows['nginx'][x], rows['nginx'][y], 'reps_us')} | {fmt_ratio(vc)} | {fmt_ratio(vm)} |")
        if vn is not None:  # not measured in this run (BENCH_ONLY): no target line
            targets.append((f"{name}, wall time against nginx", target, fmt_ratio(vn), met))
    w("")
    ia, ib = load(raw, "instructions-a"), load(raw, "instructions-b")
    if ia and ib and ia.get("instructions") and ib.get("instructions"):
        per_a = ia["instructions"] / ia["lookups"]
        per_b = ib["instructions"] / ib["lookups"]
        w(f"Instructions per lookup under callgrind (deterministic; {ia['lookups']} lookups against nginx, "
          "inside the benchmark's `lookup` function, first connection included): "
          f"(a) libmembrane **{per_a:,.0f}**, (b) the floor **{per_b:,.0f}**: (a)/(b) = "
          f"**{per_a / per_b:.2f}**. The kernel's share (syscalls, loopback TCP) is not counted here.")
        w("")
    # -- cache hits --------------------------------------------------------------
    w("## Cache hits against lookups (against nginx)")
    w("")
    if any(cache_rows.values()):
        ttl = os.environ.get("BENCH_CACHE_TTL_MS", "3600000")
        w("`bench_cache.c`, one client, \"hubspot\" in a loop. **hit**: `MEMBRANE_OPT_CACHE_TTL_MS` = "
          f"{int(ttl):,} ms; one lookup fills the cache before the row starts, and every timed call is "
          "answered from it (a log callback counts the client's requests: a call that sent one would fail the "
          "row). **lookup**: the same call with the cache off (the default), over the kept-alive loopback "
          "connection: for `membrane_integration_get` + `json_decref` that is row (a), for "
          "`membrane_integration_get_text` + `membrane_free` its twin. Each hit hands out a fresh copy: a "
          "deep copy of the tree for `_get`, a copy of the body for `_get_text`. These rows run in the same "
          "rounds as the rows above, one repetition each per round, so µs are medians over the same rounds, "
          "and **paired** is the median (min–max) of hit / lookup within each round.")
        w("")
        w("| call | lookup µs | hit µs | hit CPU µs | hit / lookup | paired | target | met | "
          "instructions per call (callgrind): lookup, hit |")
        w("|---|---:|---:|---:|---:|---:|---|---|---|")
        for label, lookup_row, hit_key, ins_lookup, ins_hit in (
                ("`membrane_integration_get` + `json_decref`", rows["nginx"]["a"], "hit", "a", "hit"),
                ("`membrane_integration_get_text` + `membrane_free`", cache_rows["text"], "hit-text",
                 "text", "hit-text")):
            hit = cache_rows[hit_key]
            value = ratio(hit, lookup_row)
            met = value is not None and value <= 1 / 20
            per_call = []
            for key in (ins_lookup, ins_hit):
                ins = load(raw, f"instructions-{key}")
                per_call.append(ins["instructions"] / ins["lookups"] if ins and ins.get("instructions") else None)
            counts = [f"{c:,.0f}" if c is not None else "n/a" for c in per_call]
            if None not in per_call:
                counts[-1] += f" (hit / lookup {per_call[1] / per_call[0]:.3f})"
            w(f"| {label} | {us(lookup_row)} | {us(hit)} | {cpu(hit)} | **{fmt_ratio3(value)}** | "
              f"{paired(hit, lookup_row, 'reps_us')} | ≤ 1/20 (0.050) | {yes(met) if value is not None else 'n/a'} | "
              f"{', '.join(counts)} |")
            name = "membrane_integration_get" if hit_key == "hit" else "membrane_integration_get_text"
            if value is not None:
                targets.append((f"cache hit / loopback lookup, `{name}` (nginx)", "≤ 1/20 (0.050)",
                                fmt_ratio3(value), met))
        hit, hit_text = cache_rows["hit"], cache_rows["hit-text"]
        if hit and hit_text:
            w("")
            w(f"A `_get_text` hit costs {fmt_ratio(ratio(hit_text, hit))}× a `_get` hit "
              f"(CPU: {fmt_ratio(ratio(hit_text, hit, 'median_cpu_us'))}×; paired "
              f"{paired(hit_text, hit, 'reps_us')}).")
    else:
        w("(no result)")
    w("")

    # -- asyncio ---------------------------------------------------------------
    w("## asyncio: 1,000 lookups, 100 in flight, from one thread (against nginx)")
    w("")
    if asyncio_rows and asyncio_rows.get("rows"):
        a = asyncio_rows
        arows = a["rows"]
        versions = a.get("versions", {})
        w(f"One Python process, one event loop thread: a batch of {a['lookups']:,} lookups with "
          f"{a['concurrency']} in flight at once ({a['concurrency']} tasks taking the next selector from one "
          f"shared iterator), the selectors cycling through the fixtures' {a['selectors']} ids, uuids and keys. "
          "Each variant hands back the body as a dict: "
          "**membrane**: `await membrane.AsyncClient(...).integration(selector)` (the library's "
          "`membrane_integration_get_text_async`, its completion fd watched with `loop.add_reader`), "
          f"`MEMBRANE_OPT_MAX_PARALLEL` = {a['max_parallel']}, `share_requests` off (one request per lookup, "
          "as the others: with it on, lookups of one selector in flight together share a request); "
          f"**aiohttp** {versions.get('aiohttp', '?')}: one `ClientSession`, `TCPConnector(limit={a['concurrency']})`, "
          "GET, `raise_for_status()`, `json.loads(await resp.text())`; "
          f"**httpx** {versions.get('httpx', '?')}: one `AsyncClient`, `Limits(max_connections={a['concurrency']}, "
          f"max_keepalive_connections={a['concurrency']})`, GET, `raise_for_status()`, `json.loads(resp.text)`. "
          f"So each may use up to {a['concurrency']} connections. Each row has its own client, warmed up by one "
          f"batch; then {a['rounds']} rounds, each running every row once in an order rotated from round to round. "
          "**lookups/s**: median over the rounds (min–max). **CPU µs**: the process's CPU time per lookup "
          "(all its threads: the library's I/O thread included), median.")
        w("")
        w("| loop | client | lookups/s | CPU µs per lookup |")
        w("|---|---|---:|---:|")
        loop_names = {"asyncio": "asyncio (default loop)",
                      "uvloop": f"uvloop {versions.get('uvloop', '?')}"}
        for name, r in arows.items():
            loop, variant = name.split("-", 1)
            reps_ = r["reps_per_s"]
            w(f"| {loop_names.get(loop, loop)} | {variant} | {r['median_per_s']:,.0f} "
              f"({min(reps_):,.0f}–{max(reps_):,.0f}) | {r['median_cpu_us']:.1f} |")
        for name, why in a.get("skipped", {}).items():
            w(f"| {name} | | skipped: {why} | |")
        w("")
        w("Ratios of lookups/s (above 1: the package is faster): of the medians, and paired (the median of the "
          "ratios within each round, min–max).")
        w("")
        w("| loop | ratio | of the medians | paired | CPU per lookup, other / package |")
        w("|---|---|---:|---:|---:|")
        for loop in ("asyncio", "uvloop"):
            mine = arows.get(f"{loop}-membrane")
            for other in ("aiohttp", "httpx"):
                theirs = arows.get(f"{loop}-{other}")
                if not mine or not theirs:
                    continue
                w(f"| {loop} | package / {other} | {fmt_ratio(ratio(mine, theirs, 'median_per_s'))} | "
                  f"{paired(mine, theirs, 'reps_per_s')} | {fmt_ratio(ratio(theirs, mine, 'median_cpu_us'))} |")
        if "asyncio-httpx" in arows:
            w("")
            w("httpx's rate is set by its connection pool, not by the network: httpcore scans every pooled "
              "connection for every queued request (`AsyncConnectionPool._assign_requests_to_connections`, "
              "O(connections × requests); encode/httpcore PR #1035), so with 100 connections and 100 requests "
              "in flight most of its CPU time goes there. It is what `httpx.AsyncClient` with these limits costs "
              "as released; fewer connections make it faster.")
    else:
        w("(no result)")
    w("")

    # -- batch ---------------------------------------------------------------
    w("## Batch: 100 distinct selectors, every request delayed 20 ms")
    w("")
    if batch:
        w(f"Against membrane-mock with the fault `{{\"delayMs\": {batch['delay_ms']}, \"times\": 0}}` "
          f"(cleared afterwards). {batch['valid']} selectors are the fixtures' ids, uuids and keys "
          f"(found); {batch['selectors'] - batch['valid']} are unknown (404), each still one delayed "
          "request. Clients warmed up (connections open) before the fault is set. "
          "\"requests\" is what the server's request log saw per call. "
          "Floor at parallelism P: ⌈100 / P⌉ × 20 ms.")
        w("")
        w("| how | parallel | median ms (min–max) | requests per call | found / 404 / other | "
          "floor ms | target ≤ 250 ms | met |")
        w("|---|---:|---:|---|---|---:|---|---|")
        for r in batch["rows"]:
            p = r["parallel"]
            floor = -(-batch["selectors"] // p) * batch["delay_ms"]
            reqs = sorted(set(r["requests_per_call"]))
            is_many = r["name"].startswith("membrane_integrations_get_many")
            met = r["median_ms"] <= 250
            w(f"| {r['name']} | {p} | {r['median_ms']:.1f} ({min(r['reps_ms']):.1f}–{max(r['reps_ms']):.1f}) | "
              f"{', '.join(map(str, reqs))} | {r['ok']} / {r['not_found']} / {r['other_errors']} | {floor} | "
              f"{'≤ 250 ms' if is_many else '(baseline)'} | {yes(met) if is_many else '—'} |")
            if is_many:
                targets.append((f"batch of 100 with get_many, MAX_PARALLEL {p}"
                                + (" (default)" if "default" in r["name"] else ""),
                                "≤ 250 ms", f"{r['median_ms']:.1f} ms", met))
        seq = batch["rows"][0]["median_ms"]
        w("")
        w("Speed-up over the sequential loop: " + ", ".join(
            f"P={r['parallel']} ×{seq / r['median_ms']:.1f}" for r in batch["rows"][1:] if r["median_ms"]) + ".")
    else:
        w("(no result)")
    w("")

    # -- async from C -------------------------------------------------------------
    w("## Async from C: every lookup in flight from one thread, every request delayed 20 ms")
    w("")
    if async_c and async_c.get("rows"):
        c = async_c
        d = c["delay_ms"]
        has_server = "median_server_cpu_us" in c["rows"][0]
        w(f"`bench_async.c`: {c['lookups']:,} `membrane_integration_get_async` calls made up front from one "
          "thread (the selectors cycling through the fixtures' "
          f"{c['selectors']} ids, uuids and keys, all found), then a `poll()` loop on "
          "`membrane_client_completion_fd` calling `membrane_client_dispatch` until every callback has run, "
          "with `MEMBRANE_OPT_SHARE_REQUESTS` 0 (one request per lookup; shared requests would lift the "
          "rate past the bound). "
          f"Against membrane-mock with the fault `{{\"delayMs\": {d}, \"times\": 0}}`: over HTTP/1.1 with "
          f"`MEMBRANE_OPT_MAX_PARALLEL` = P, at most P requests are on the wire at once, each taking at least "
          f"{d} ms, so the **bound** is P × 1000 / {d} lookups/s. Each client is warmed up first (its P "
          f"connections open). {c['reps']} rounds; each runs, for every P, the delayed batch, then the same "
          "batch with no fault at all (**no delay**: what the stand-in server and the client manage flat out). "
          "**server saw** (`GET /_mock/stats` over the delayed batch): the most requests in flight at once, and "
          "the connections opened during the batch (0: the client kept to its warm ones). "
          + ("**server CPU**: the stand-in's own CPU time per lookup (from `/proc`), and how many cores it kept "
             "busy (its CPU seconds per wall second). " if has_server else "")
          + "Medians over the rounds (min–max).")
        w("")
        if has_server:
            w("| P | bound lookups/s | lookups/s | achieved / bound | client CPU µs per lookup | "
              "server saw: in flight, new connections | server CPU µs per lookup (cores busy) | "
              "no delay: lookups/s | no delay: server cores busy |")
            w("|---:|---:|---:|---:|---:|---|---:|---:|---:|")
        else:
            w("| P | bound lookups/s | lookups/s | achieved / bound | client CPU µs per lookup | "
              "server saw: in flight, new connections | no delay: lookups/s |")
            w("|---:|---:|---:|---:|---:|---|---:|")
        for r in c["rows"]:
            bound = r["bound_per_s"]
            reps_ = r["per_s"]
            und = r["undelayed_per_s"]
            saw = f"{max(r['max_in_flight']):.0f}, {max(r['connections_opened']):.0f}"
            cells = [f"{r['parallel']}", f"{bound:,.0f}",
                     f"{r['median_per_s']:,.0f} ({min(reps_):,.0f}–{max(reps_):,.0f})",
                     f"**{r['median_per_s'] / bound:.2f}**", f"{r['median_cpu_us']:.1f}", saw]
            if has_server:
                cells.append(f"{r['median_server_cpu_us']:,.0f} ({r['median_server_cores']:.2f})")
            cells.append(f"{r['median_undelayed_per_s']:,.0f} ({min(und):,.0f}–{max(und):,.0f})")
            if has_server:
                cells.append(f"{r['median_undelayed_server_cores']:.2f}")
            w("| " + " | ".join(cells) + " |")
        w("")
        cores = c.get("cores") or run("nproc")
        for r in c["rows"]:
            bound = r["bound_per_s"]
            flat = r["median_undelayed_per_s"]
            got = r["median_per_s"]
            per_request_ms = r["parallel"] / got * 1000
            text = (f"**P={r['parallel']}**: {got:,.0f} lookups/s, {got / bound:.2f} of the bound "
                    f"({bound:,.0f}/s: the batch takes at least {c['lookups'] / bound:.2f} s; it took "
                    f"{c['lookups'] / got:.2f} s), so each connection carried one request every "
                    f"{per_request_ms:.1f} ms: the {d} ms delay and {per_request_ms - d:.1f} ms of the server "
                    f"answering, the loopback and the client. With no delay the same batch runs at {flat:,.0f}/s, "
                    f"{flat / bound:.1f}× the bound")
            if flat >= 2 * bound:
                text += (", so the stand-in (a debug build) is not what limits the delayed batch: answering at "
                         f"the bound takes at most {100 * bound / flat:.0f}% of what it and the client manage flat "
                         "out; what is left is the connections.")
            else:
                text += (": **the stand-in server is the limit here, not the connections**. It is a debug build")
                if has_server:
                    need = bound * r["median_server_cpu_us"] / 1e6
                    text += (f" that spends about {r['median_server_cpu_us']:,.0f} µs of CPU per request, so "
                             f"answering {bound:,.0f} requests/s would take {need:.1f} cores of this machine's "
                             f"{cores}, shared with the client; it kept {r['median_server_cores']:.2f} busy")
                text += (". The ratio for this P measures the server; the smaller P, whose bound the server "
                         "can meet, shows what the library does with its connections.")
            w(text)
            w("")
            opened = max(r["connections_opened"])
            if opened > 0:
                w(f"P={r['parallel']}: the client opened up to {opened:.0f} new connections during a delayed batch "
                  f"although its {r['parallel']} were open when the batch began: it closes some kept-alive "
                  "connections each time its queue drains (libcurl's connection cache holds 4 connections per "
                  "easy handle in the multi handle unless `CURLMOPT_MAXCONNECTS` is set, and shrinks as the "
                  "transfers end), and opens them again on the next burst.")
                w("")
            if r.get("failed") or r.get("undelayed_failed"):
                w(f"P={r['parallel']}: {r['failed']} delayed and {r['undelayed_failed']} undelayed lookups "
                  "**failed** (see the run's stderr).")
                w("")
    else:
        w("(no result)")
        w("")

    # -- threads ---------------------------------------------------------------
    w("## Threads sharing one client (against nginx)")
    w("")
    if threads:
        selectors = threads.get("selectors", ["hubspot"])
        if threads.get("distinct"):
            most = max(t["threads"] for t in threads["threads"])
            which = (f"no two threads ever asking for the same selector: with the fixtures' first {len(selectors)} "
                     f"keys ({', '.join(f'`{x}`' for x in selectors)}), thread t of T asks for keys t, t + T, "
                     f"t + 2T, … in turn, so with {most} threads each has a key of its own, and with fewer each "
                     "cycles through several (the same mix of bodies for every T that divides "
                     f"{len(selectors)}); the floor's threads do the same. (Lookups of one selector made at the "
                     "same moment would share one request, `MEMBRANE_OPT_SHARE_REQUESTS`, on by default; the "
                     "floor's would not, so one selector for all threads would measure sharing, not threads.)")
        else:
            which = "every thread asking for \"hubspot\""
        w(f"{len(threads['threads'][0]['reps_per_s'])} rounds; in each, every thread count runs once with the "
          "library (T threads sharing one fresh client) and once with the floor (T threads, each with its own "
          "libcurl easy handle, as `bench_curl.c`); every thread warms up, then "
          f"{os.environ.get('BENCH_THREAD_SECONDS', '0.4')} s of lookups from all threads, {which} "
          f"Median lookups per second over the rounds (min–max). The machine has {run('nproc')} cores, shared "
          "by the client threads, nginx's one worker and anything else running; the floor shows how far this "
          "machine lets lookups scale at all. **scaling**: T threads' rate / 1 thread's rate; the last column "
          "is the library's scaling over the floor's.")
        w("")
        w("| threads | libmembrane lookups/s | scaling | floor lookups/s | scaling | "
          "libmembrane scaling / floor scaling |")
        w("|---:|---:|---:|---:|---:|---:|")
        lib = {t["threads"]: t for t in threads["threads"]}
        flo = {t["threads"]: t for t in threads.get("floor", [])}

        def scaling(series: Dict[int, Any], count: int) -> Optional[float]:
            if count not in series or 1 not in series or not series[1]["median_per_s"]:
                return None
            return series[count]["median_per_s"] / series[1]["median_per_s"]

        def cell(series: Dict[int, Any], count: int) -> str:
            t = series.get(count)
            if not t:
                return "n/a"
            return f"{t['median_per_s']:,.0f} ({min(t['reps_per_s']):,.0f}–{max(t['reps_per_s']):,.0f})"

        def paired_scaling(series: Dict[int, Any], count: int) -> Optional[List[float]]:
            if count not in series or 1 not in series:
                return None
            return [a / b for a, b in zip(series[count]["reps_per_s"], series[1]["reps_per_s"]) if b]

        for count in sorted(lib):
            sl, sf = scaling(lib, count), scaling(flo, count)
            over = sl / sf if sl is not None and sf else None
            w(f"| {count} | {cell(lib, count)} | {fmt_ratio(sl)} | {cell(flo, count)} | {fmt_ratio(sf)} | "
              f"{fmt_ratio(over)} |")
        r21, f21 = scaling(lib, 2), scaling(flo, 2)
        met = r21 is not None and r21 >= 1.6
        w("")
        pl = paired({"r": lib[2]["reps_per_s"]}, {"r": lib[1]["reps_per_s"]}, "r") if 1 in lib and 2 in lib else "n/a"
        pf = paired({"r": flo[2]["reps_per_s"]}, {"r": flo[1]["reps_per_s"]}, "r") if 1 in flo and 2 in flo else "n/a"
        w(f"2 threads / 1 thread: libmembrane **{fmt_ratio(r21)}** (target ≥ 1.6: {yes(met)}); "
          f"the floor {fmt_ratio(f21)}. Paired within each round: libmembrane {pl}, the floor {pf}.")
        targets.append(("threads: 2 threads / 1 thread, one client, distinct selectors (nginx)"
                        if threads.get("distinct") else "threads: 2 threads / 1 thread, one client (nginx)",
                        "≥ 1.6", fmt_ratio(r21), met))
        top = max(lib)
        if top > 2:
            sl, sf = scaling(lib, top), scaling(flo, top)
            ps_l, ps_f = paired_scaling(lib, top), paired_scaling(flo, top)
            within = ("n/a" if not ps_l or not ps_f or len(ps_l) != len(ps_f) else
                      paired({"r": ps_l}, {"r": ps_f}, "r"))
            w("")
            w(f"{top} threads / 1 thread: libmembrane **{fmt_ratio(sl)}**, the floor **{fmt_ratio(sf)}**: the "
              f"library's scaling is **{fmt_ratio(sl / sf if sl is not None and sf else None)}** of the floor's "
              f"(paired within each round: {within}). No target is set for this one; on a machine with "
              f"{run('nproc')} cores the rate stops growing once the cores are busy, for the library and the "
              "floor alike, so the ratio of the two scalings is the figure to read.")
    else:
        w("(no result)")
    w("")

    # -- sharing -------------------------------------------------------------------
    w("## 8 threads asking for the same selector at once (against membrane-mock)")
    w("")
    if sharing and sharing.get("rows"):
        sh = sharing
        w(f"`bench_sharing.c`: in each round, {sh['threads']} new threads wait on a barrier, and once it releases "
          f"them each calls `membrane_integration_get(client, \"{sh['selector']}\")` on one shared client. The "
          f"stand-in delays every request for `{sh['selector']}` by {sh['delay_ms']} ms (the fault "
          f"`{{\"match\": \"{sh['selector']}\", \"delayMs\": {sh['delay_ms']}, \"times\": 0}}`), so all the "
          "threads ask while the first request is in flight. **requests per round**: what the server's request "
          "log saw for the selector during the round (read and cleared after each). **round ms**: from the "
          "barrier to the last answer. Each thread must get its own object (distinct pointers). Two clients, "
          f"warmed up by one round each, alternate over {sh['rounds']} rounds: `MEMBRANE_OPT_SHARE_REQUESTS` "
          f"1 (the default) and 0.")
        w("")
        w("| client | requests per round: median | min–max | target | met | round ms: median (min–max) | "
          "failed lookups |")
        w("|---|---:|---:|---|---|---:|---:|")
        for r in sh["rows"]:
            on = r["share_requests"] == 1
            met = r["max_requests"] == 1 and r["min_requests"] == 1 and r["failed"] == 0
            ms = r["ms"]
            w(f"| {r['name']} (`MEMBRANE_OPT_SHARE_REQUESTS` {r['share_requests']}) | {r['median_requests']:.0f} | "
              f"{r['min_requests']:.0f}–{r['max_requests']:.0f} | {'1 (every round)' if on else '(comparison)'} | "
              f"{yes(met) if on else '—'} | {r['median_ms']:.1f} ({min(ms):.1f}–{max(ms):.1f}) | {r['failed']} |")
            if on:
                targets.append((f"sharing: requests per round, {sh['threads']} threads asking for one selector at "
                                "once (membrane-mock)", "1 (every round)",
                                f"median {r['median_requests']:.0f}, max {r['max_requests']:.0f}", met))
    else:
        w("(no result)")
    w("")

    # -- memory ---------------------------------------------------------------
    w("## Memory in one process (against nginx)")
    w("")
    if memory:
        points = memory["checkpoints"]
        w("One client, lookups of \"hubspot\" in a loop, each result released. VmHWM is the peak "
          "resident set (`/proc/self/status`), VmRSS the current one; ru_maxrss from getrusage.")
        w("")
        w("| after lookups | VmHWM KiB | VmRSS KiB | ru_maxrss KiB |")
        w("|---:|---:|---:|---:|")
        for p in points:
            w(f"| {p['lookups']:,} | {p['vmhwm_kb']:,} | {p['vmrss_kb']:,} | {p['maxrss_kb']:,} |")
        first = next((p for p in points if p["lookups"] == 1000), None)
        last = points[-1]
        if first:
            growth = last["vmhwm_kb"] - first["vmhwm_kb"]
            met = growth * 1024 < 2_000_000
            w("")
            w(f"Peak RSS growth from 1,000 to {last['lookups']:,} lookups: **{growth:,} KiB** "
              f"({growth * 1024 / 1e6:.2f} MB; target < 2 MB: {yes(met)}).")
            targets.append((f"memory: peak RSS growth, 1,000 → {last['lookups']:,} lookups", "< 2 MB",
                            f"{growth:,} KiB", met))
    else:
        w("(no result)")
    w("")

    # -- size -------------------------------------------------------------------
    w("## Library size")
    w("")
    met = 0 < size < 12_000_000
    w(f"`{args.library}`: {size:,} bytes ({size / 1e6:.2f} MB, {size / 2**20:.2f} MiB); "
      f"target < 12 MB: {yes(met)}.")
    targets.append(("size of libmembrane.so", "< 12 MB", f"{size / 1e6:.2f} MB", met))
    w("")

    # -- summary ------------------------------------------------------------------
    w("## Targets")
    w("")
    w("| target | goal | measured | met |")
    w("|---|---|---:|---|")
    for what, goal, value, ok in targets:
        w(f"| {what} | {goal} | {value} | {yes(ok)} |")
    w("")

    text = "\n".join(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
