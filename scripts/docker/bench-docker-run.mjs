#!/usr/bin/env node
// Baseline for the emulator's Docker executor: runs N tiny containers with the docker CLI, C at a time, and
// prints the throughput (jobs/s) and per-job latency. Every container is `--rm --network none` (or --network host).
//
//   node scripts/docker/bench-docker-run.mjs [-n 40] [-c 1] [--image htcemu/shell:1] [--network none|host]
//                                            [--docker docker] [--json]
//
// One untimed warm-up run comes first so the image and the CLI are in the page cache.
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    n: { type: "string", short: "n", default: "40" },
    c: { type: "string", short: "c", default: "1" },
    image: { type: "string", default: "htcemu/shell:1" },
    network: { type: "string", default: "none" },
    docker: { type: "string", default: process.env.DOCKER_CLI ?? "docker" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opt.help) {
  console.log("usage: bench-docker-run.mjs [-n jobs] [-c concurrency] [--image img] [--network none|host] [--docker cli] [--json]");
  process.exit(0);
}
const n = Number(opt.n);
const c = Number(opt.c);
if (opt.network !== "none" && opt.network !== "host") {
  // Never a bridge or any other network: the emulator only talks to loopback.
  console.error("bench-docker-run: --network must be none or host");
  process.exit(2);
}
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(c) || c < 1) {
  console.error("bench-docker-run: -n and -c must be positive integers");
  process.exit(2);
}

const args = ["run", "--rm", "--network", opt.network, opt.image, "sh", "-c", "echo hi"];

function runOne() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(opt.docker, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 && out.trim() === "hi") resolve(performance.now() - t0);
      else reject(new Error(`docker run exited ${code}: ${(err || out).trim()}`));
    });
  });
}

await runOne(); // warm-up

const latencies = [];
let next = 0;
const start = performance.now();
// C workers pull from a shared counter, so exactly C containers are in flight until the queue drains.
await Promise.all(
  Array.from({ length: Math.min(c, n) }, async () => {
    while (next < n) {
      next++;
      latencies.push(await runOne());
    }
  }),
);
const seconds = (performance.now() - start) / 1000;

latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
const result = {
  network: opt.network,
  jobs: n,
  concurrency: c,
  seconds: +seconds.toFixed(2),
  jobsPerSecond: +(n / seconds).toFixed(1),
  latencyMs: { p50: Math.round(pct(50)), p95: Math.round(pct(95)), max: Math.round(latencies.at(-1)) },
};
if (opt.json) console.log(JSON.stringify(result));
else
  console.log(
    `N=${n} C=${c} network=${opt.network}: ${result.jobsPerSecond} jobs/s (${result.seconds} s; latency p50 ${result.latencyMs.p50} ms, ` +
      `p95 ${result.latencyMs.p95} ms, max ${result.latencyMs.max} ms)`,
  );
