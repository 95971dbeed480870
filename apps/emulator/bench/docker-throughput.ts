// Throughput of the Docker executor against a bare `docker run --rm --network host` loop, at the same
// concurrency, in the same run. Each job is `sh -c 'echo hi'` in htcemu/shell:1.
//
//   npx tsx bench/docker-throughput.ts [-n 40] [-c 1,2,4] [--rounds 2]
//
// The executor's time runs from the first start() until every container is removed (close("detach") waits for
// the removals), so it pays for what `docker run --rm` pays for. The baseline is scripts/docker/bench-docker-run.mjs.
// Each figure is the best of `rounds` runs, executor and baseline alternating, to damp noise.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { detectDockerEngine } from "../src/jobs/docker-engine.js";
import { DockerExecutor } from "../src/jobs/docker-executor.js";
import type { JobLaunch, JobOutcome } from "../src/jobs/executor.js";

const { values: opt } = parseArgs({
  options: {
    n: { type: "string", short: "n", default: "40" },
    c: { type: "string", short: "c", default: "1,2,4" },
    rounds: { type: "string", default: "2" },
    image: { type: "string", default: "htcemu/shell:1" },
  },
});
const n = Number(opt.n);
const levels = opt.c.split(",").map(Number);
const rounds = Number(opt.rounds);
const baselineScript = fileURLToPath(new URL("../../../scripts/docker/bench-docker-run.mjs", import.meta.url));

const engine = await detectDockerEngine();
if (!engine.ok) {
  console.error(engine.reason);
  process.exit(1);
}

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
    imageName: opt.image,
    image: opt.image,
    commands: ["sh", "-c", "echo hi"],
    env: {},
    workingDir: null,
    vcpus: 1,
    memoryMiB: 256,
    execTimeoutSeconds: 600,
    region: "AWS_US_EAST_1",
  };
}

/** Jobs per second through a fresh executor, C jobs in flight until N are done. */
async function executorRun(c: number): Promise<number> {
  const done = new Map<number, (r: { outcome: JobOutcome; output: string }) => void>();
  const output = new Map<number, string>();
  const ex = new DockerExecutor({
    instanceId: `bench-${process.pid}-${Date.now().toString(36)}`,
    clock: { now: () => Date.now() },
    engine: engine.ok ? engine.info : undefined,
    log: (line) => console.error(line),
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
    ex.start(launch(seq));
    const r = await finished;
    if (r.outcome.kind !== "exited" || r.outcome.exitCode !== 0 || r.output !== "hi") {
      throw new Error(`job ${seq}: ${JSON.stringify(r)}`);
    }
  };
  await runOne(0); // warm-up: engine check, image cache, connections
  let next = 1;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      while (next <= n) await runOne(next++);
    }),
  );
  await ex.close("detach"); // waits for the last removals
  return n / ((performance.now() - start) / 1000);
}

async function dockerRun(c: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [baselineScript, "-n", String(n), "-c", String(c), "--network", "host", "--image", opt.image, "--json"]);
  return (JSON.parse(stdout) as { jobsPerSecond: number }).jobsPerSecond;
}

const rows: { c: number; executor: number; docker: number }[] = [];
for (const c of levels) {
  let executor = 0;
  let docker = 0;
  for (let r = 0; r < rounds; r++) {
    executor = Math.max(executor, await executorRun(c));
    docker = Math.max(docker, await dockerRun(c));
  }
  rows.push({ c, executor, docker });
  console.error(`C=${c}: executor ${executor.toFixed(1)} jobs/s, docker run ${docker.toFixed(1)} jobs/s`);
}

console.log(`N=${n}, image ${opt.image}, network host, best of ${rounds}`);
console.log("| C | executor jobs/s | docker run jobs/s | ratio |");
console.log("|---|-----------------|-------------------|-------|");
for (const { c, executor, docker } of rows) {
  console.log(`| ${c} | ${executor.toFixed(1)} | ${docker.toFixed(1)} | ${(executor / docker).toFixed(2)} |`);
}
