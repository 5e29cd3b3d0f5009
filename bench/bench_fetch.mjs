// Row (e): Node's built-in fetch (undici; keeps connections alive by default),
// the runtime of the vendor's SDK:
//   await (await fetch(url, { headers })).json()
// in a loop. Measured as the C rows are (see bench_common.h); prints one line
// of JSON: {"n": N, "reps_us": [...], "reps_cpu_us": [...], "median_us": ...,
// "median_cpu_us": ...} (CPU: process.cpuUsage()); with BENCH_SERVE=1 it
// answers bench/driver.py one repetition at a time instead.
//
//   node bench/bench_fetch.mjs URL TOKEN [SELECTOR]

const [url, token, selector = 'hubspot'] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node bench_fetch.mjs URL TOKEN [SELECTOR]');
  process.exit(2);
}

const env = (name, fallback) => {
  const value = Number(process.env[name]);
  return value > 0 ? value : fallback;
};
const warmup = env('BENCH_WARMUP_SECONDS', 0.3);
const repSeconds = env('BENCH_REP_SECONDS', 0.4);
const reps = Math.min(50, Math.floor(env('BENCH_REPS', 5)));

const endpoint = `${url}/integrations/${encodeURIComponent(selector)}?includeSecrets=false`;
const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };

async function op() {
  const response = await fetch(endpoint, { headers });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const integration = await response.json();
  if (typeof integration.name !== 'string') throw new Error('not an integration');
  return integration;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

// Warm-up in chunks of 10; the fastest chunk estimates one lookup (as bench_common.h).
let done = 0;
let perOp = Infinity;
let t = 0;
const start = now();
do {
  const chunk = now();
  for (let i = 0; i < 10; i++) await op();
  done += 10;
  t = now();
  perOp = Math.min(perOp, (t - chunk) / 10);
} while (t - start < warmup || done < 20);

const n = Math.max(50, Math.min(5_000_000, Math.floor(repSeconds / perOp)));
const round3 = (x) => Math.round(x * 1000) / 1000;

// Wall and process-CPU (user + system, all threads) microseconds per lookup.
async function repetition() {
  const t0 = now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await op();
  const cpu = process.cpuUsage(c0);
  return { us: round3(((now() - t0) * 1e6) / n), cpu_us: round3((cpu.user + cpu.system) / n) };
}

if (process.env.BENCH_SERVE === '1') {
  // Driven by bench/driver.py: one repetition per "run" line on stdin.
  const { createInterface } = await import('node:readline');
  console.log(JSON.stringify({ ready: true, n }));
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.startsWith('run')) break;
    console.log(JSON.stringify(await repetition()));
  }
  process.exit(0);
}

const results = [];
for (let r = 0; r < reps; r++) results.push(await repetition());
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return round3(sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
};
const repsUs = results.map((r) => r.us);
const repsCpuUs = results.map((r) => r.cpu_us);
console.log(JSON.stringify({
  n, reps_us: repsUs, reps_cpu_us: repsCpuUs, median_us: median(repsUs), median_cpu_us: median(repsCpuUs),
}));
