// Scenario `api-throughput`: HTTP load (autocannon, in this process) against an emulator in a separate process:
// GET /htc/projects/{id} with 50 connections, plus the key → token exchange and the project list.
import autocannon from "autocannon";
import { type BenchContext, median, type Row, type ScenarioReport, spawnBenchEmulator } from "./common.js";

interface Load {
  path: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

async function load(base: string, spec: Load): Promise<LoadResult> {
  const result = await autocannon({
    url: `${base}${spec.path}`,
    connections: spec.connections,
    duration: spec.seconds,
    headers: spec.headers,
  });
  if (result.errors || result.non2xx) {
    throw new Error(`load on ${spec.path}: ${result.errors} connection errors, ${result.non2xx} non-2xx answers of ${result.requests.total}`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

export async function apiThroughput(ctx: BenchContext): Promise<ScenarioReport> {
  const emulator = await spawnBenchEmulator(ctx.scope);
  const base = emulator.baseUrl;
  let projectId = "";
  for (let i = 0; i < 10; i++) {
    const { projectId: id } = await emulator.http.projectAndTask(`load-${i}`);
    projectId ||= id;
  }
  const bearer = { Authorization: `Bearer ${emulator.token}` };
  const repeats = ctx.quick ? 1 : 3;
  const how = repeats === 1 ? "one run" : `median of ${repeats} runs`;

  const measure = async (label: string, spec: Load) => {
    await load(base, { ...spec, seconds: ctx.quick ? 0.5 : 2 }); // warm-up: JIT, connection pools, SQLite caches
    const runs: LoadResult[] = [];
    for (let i = 0; i < repeats; i++) {
      const run = await load(base, spec);
      ctx.log(`${label}: ${run.rps.toFixed(0)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms`);
      runs.push(run);
    }
    return {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      runs,
    };
  };

  const seconds = ctx.quick ? 2 : 10;
  const side = ctx.quick ? 2 : 5;
  const get = await measure("GET project", { path: `/htc/projects/${projectId}`, headers: bearer, connections: 50, seconds });
  const list = await measure("list projects", { path: "/htc/projects", headers: bearer, connections: 10, seconds: side });
  const token = await measure("token exchange", {
    path: "/auth/token",
    headers: { Authorization: `Token ${emulator.apiKey}` },
    connections: 10,
    seconds: side,
  });

  const rows: Row[] = [
    { figure: "GET /htc/projects/{id}, 50 connections: throughput", target: { op: ">=", value: 5000 }, measured: get.rps, unit: "req/s", how },
    { figure: "GET /htc/projects/{id}, 50 connections: p99 latency", target: { op: "<", value: 10 }, measured: get.p99, unit: "ms", how },
    { figure: "GET /htc/projects/{id}, 50 connections: p50 latency", measured: get.p50, unit: "ms", how },
    { figure: "GET /htc/projects (10 projects), 10 connections", measured: list.rps, unit: "req/s", how },
    { figure: "GET /htc/projects (10 projects): p99 latency", measured: list.p99, unit: "ms", how },
    { figure: "GET /auth/token (key → token), 10 connections", measured: token.rps, unit: "req/s", how },
    { figure: "GET /auth/token: p99 latency", measured: token.p99, unit: "ms", how },
  ];
  return {
    rows,
    notes: [
      `load: autocannon in the bench process; emulator: separate process (--in-memory --executor simulated); ${seconds} s per run for GET project, ${side} s for the others, after a warm-up run`,
      `GET project runs (req/s): ${get.runs.map((r) => r.rps.toFixed(0)).join(", ")}; p99 (ms): ${get.runs.map((r) => r.p99).join(", ")}`,
      "the load generator shares the machine's cores with the emulator",
    ],
  };
}
