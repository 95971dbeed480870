// Scenario `docker-throughput`: jobs per second of the emulator's Docker executor beside two loops with no emulator
// in them, at the same concurrency C (1, 2 and 4 in flight) in the same run:
//   - the raw Docker Engine API through dockerode: create, start, wait, remove (the floor any executor pays),
//   - `docker run --rm --network host` through the docker CLI (scripts/docker/bench-docker-run.mjs).
// Each job is `sh -c 'echo hi'` in htcemu/shell:1. The executor's time runs from its first start() until every
// container is removed (close("detach") waits for the removals), so it pays what the loops pay. Each figure is the
// best of `rounds` runs, the three runners taking turns, to damp noise from a shared machine.
// Without a Docker engine the scenario is skipped with the reason, unless HTC_REQUIRE_DOCKER=1 (CI) makes that an
// error.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type Dockerode from "dockerode";
// The executor itself is what is measured; the engine check gives the executor the engine description it needs.
import { type DockerEngineInfo, defaultDocker, detectDockerEngine } from "../src/jobs/docker-engine.js";
import { DockerExecutor } from "../src/jobs/docker-executor.js";
import type { JobLaunch, JobOutcome } from "../src/jobs/executor.js";
import { type BenchContext, formatNumber, type Row, type ScenarioReport } from "./common.js";
import { type Attempt, attempt, commandVersion, packageVersion } from "./peers.js";

/** The executor at least 80 % of bare `docker run` at the same concurrency. */
export const DOCKER_RATIO_TARGET = 0.8;

const IMAGE = "htcemu/shell:1";
const COMMAND = ["sh", "-c", "echo hi"];
const MEMORY_MIB = 256;
const baselineScript = fileURLToPath(new URL("../../../scripts/docker/bench-docker-run.mjs", import.meta.url));

function launch(seq: number): JobLaunch {
  return {
    seq,
    jobId: `bench:${seq}`,
    parentJobId: "bench",
    index: seq,
    attempt: 1,
    projectId: "bench",
    taskId: "bench",
    workspaceId: "bench",
    imageName: IMAGE,
    image: IMAGE,
    commands: COMMAND,
    env: {},
    workingDir: null,
    vcpus: 1,
    memoryMiB: MEMORY_MIB,
    execTimeoutSeconds: 600,
    region: "AWS_US_EAST_1",
  };
}

/** C workers take jobs 1..n from a shared counter until all are done; jobs per second. */
async function inFlight(c: number, n: number, runOne: (seq: number) => Promise<void>): Promise<number> {
  let next = 1;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      while (next <= n) await runOne(next++);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

/** Jobs per second through a fresh executor, C jobs in flight until N are done (one warm-up job first). */
async function executorRun(engine: DockerEngineInfo, c: number, n: number): Promise<number> {
  const done = new Map<number, (r: { outcome: JobOutcome; output: string }) => void>();
  const output = new Map<number, string>();
  const executor = new DockerExecutor({
    instanceId: `bench-${process.pid}-${Date.now().toString(36)}`,
    clock: { now: () => Date.now() },
    engine,
    log: (line) => process.stderr.write(`${line}\n`),
    events: {
      running() {},
      log(seq, lines) {
        output.set(seq, (output.get(seq) ?? "") + lines.map((l) => l.message).join("\n"));
      },
      finished(seq, outcome) {
        done.get(seq)?.({ outcome, output: output.get(seq) ?? "" });
      },
    },
  });
  const runOne = async (seq: number) => {
    const finished = new Promise<{ outcome: JobOutcome; output: string }>((resolve) => done.set(seq, resolve));
    executor.start(launch(seq));
    const r = await finished;
    if (r.outcome.kind !== "exited" || r.outcome.exitCode !== 0 || r.output !== "hi")
      throw new Error(`executor job ${seq}: ${JSON.stringify(r)}`);
  };
  try {
    await runOne(0); // warm-up: engine check, image cache, connections
    const started = performance.now();
    await inFlight(c, n, runOne);
    await executor.close("detach"); // waits for the last removals
    return n / ((performance.now() - started) / 1000);
  } finally {
    await executor.close("stop"); // after a failure: removes what is left (a no-op once closed)
  }
}

/**
 * The raw Engine API loop: create (the executor's host config: host network, the job's memory and one CPU, json-file
 * logs), start, wait for the exit, remove. Nothing reads the output; the exit code must be 0.
 */
async function engineApiRun(docker: Dockerode, c: number, n: number): Promise<number> {
  const runOne = async (seq: number) => {
    const container = await docker.createContainer({
      Image: IMAGE,
      Cmd: COMMAND,
      Labels: { "htcemu.bench": String(process.pid) },
      HostConfig: {
        NetworkMode: "host",
        Memory: MEMORY_MIB * 1024 * 1024,
        MemorySwap: MEMORY_MIB * 1024 * 1024,
        NanoCpus: 1e9,
        LogConfig: { Type: "json-file", Config: {} },
      },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      if (StatusCode !== 0) throw new Error(`raw Engine API job ${seq} exited with ${StatusCode}`);
    } finally {
      await container.remove({ force: true, v: true });
    }
  };
  await runOne(0); // warm-up
  return inFlight(c, n, runOne);
}

async function dockerRunLoop(c: number, n: number): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [baselineScript, "-n", String(n), "-c", String(c), "--network", "host", "--image", IMAGE, "--json"],
    {
      timeout: 600_000,
    },
  );
  return (JSON.parse(stdout) as { jobsPerSecond: number }).jobsPerSecond;
}

/** Best of the successful rounds; the first failure's reason when none succeeded. */
function bestOf(results: Attempt<number>[]): Attempt<number> {
  const good = results.filter((r): r is { ok: true; value: number } => r.ok);
  if (good.length) return { ok: true, value: Math.max(...good.map((r) => r.value)) };
  return results.find((r): r is { ok: false; reason: string } => !r.ok) ?? { ok: false, reason: "did not run" };
}

export async function dockerThroughput(ctx: BenchContext): Promise<ScenarioReport> {
  const docker = defaultDocker();
  const engine = await detectDockerEngine(docker);
  if (!engine.ok) {
    const reason = `no Docker engine answers: ${engine.reason.split("\n")[0]}`;
    if (process.env.HTC_REQUIRE_DOCKER === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${reason}`);
    return { rows: [], notes: [], skipped: reason };
  }
  const n = ctx.quick ? 4 : 40;
  const rounds = ctx.quick ? 1 : 2;
  const levels = [1, 2, 4];
  const how = rounds === 1 ? "one run" : `best of ${rounds}`;
  const cliVersion = /version (\S+?),?\s/.exec(`${(await commandVersion("docker")) ?? ""} `)?.[1] ?? "version unknown";
  const engineLabel = `Docker Engine API ${engine.info.apiVersion} via dockerode ${packageVersion("dockerode")}`;
  const cliLabel = `docker run --rm loop (docker CLI ${cliVersion})`;
  const rows: Row[] = [];
  for (const c of levels) {
    const runs = { executor: [] as Attempt<number>[], engine: [] as Attempt<number>[], cli: [] as Attempt<number>[] };
    for (let round = 0; round < rounds; round++) {
      runs.executor.push(await attempt(() => executorRun(engine.info, c, n)));
      runs.engine.push(await attempt(() => engineApiRun(docker, c, n)));
      runs.cli.push(await attempt(() => dockerRunLoop(c, n)));
    }
    const executor = bestOf(runs.executor);
    const raw = bestOf(runs.engine);
    const cli = bestOf(runs.cli);
    const show = (a: Attempt<number>) => (a.ok ? a.value.toFixed(1) : "failed");
    ctx.log(`C=${c}: executor ${show(executor)} jobs/s, raw Engine API ${show(raw)} jobs/s, docker run ${show(cli)} jobs/s`);
    if (!executor.ok) throw new Error(`the Docker executor at C=${c}: ${executor.reason}`);
    const what = `containers of ${IMAGE} (sh -c 'echo hi'), ${c} in flight`;
    const mine = `${formatNumber(executor.value)} jobs/s`;
    rows.push({ figure: `C=${c}: the Docker executor`, measured: executor.value, unit: "jobs/s", how });
    for (const [label, result, target] of [
      [engineLabel, raw, undefined],
      [cliLabel, cli, DOCKER_RATIO_TARGET],
    ] as const) {
      const base = { what, emulator: mine, peer: label, ...(target === undefined ? {} : { target: `>= ${target}×` }) };
      const targetField = target === undefined ? {} : { target: { op: ">=" as const, value: target } };
      rows.push(
        result.ok
          ? {
              figure: `  C=${c}: executor ÷ ${label} (${formatNumber(result.value)} jobs/s)`,
              ...targetField,
              measured: executor.value / result.value,
              unit: "×",
              how,
              comparison: { ...base, peerFigure: `${formatNumber(result.value)} jobs/s`, ratio: executor.value / result.value },
            }
          : {
              figure: `  C=${c}: executor ÷ ${label}`,
              ...targetField,
              measured: Number.NaN,
              unit: "×",
              how,
              error: result.reason,
              comparison: { ...base, peerFigure: `did not run: ${result.reason}` },
            },
      );
    }
  }
  return {
    rows,
    notes: [
      `N=${n} jobs per run after one warm-up job, image ${IMAGE}, host network, ${MEMORY_MIB} MiB and one CPU per container; engine ${engine.info.serverVersion} (${engine.info.operatingSystem})`,
      `peers: ${engineLabel} (create, start, wait, remove; no output read); ${cliLabel} via scripts/docker/bench-docker-run.mjs`,
    ],
  };
}
