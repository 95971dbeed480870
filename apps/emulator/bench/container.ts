// Scenario `container`: the emulator as the htcemu/emulator image runs it (host network, the engine's socket).
//   - `docker run` → healthy (Docker's health status, from the image's HEALTHCHECK), and → ready as seen from
//     this machine (GET /_emulator/ready answers 200);
//   - `docker stop` of an emulator with jobs running (SIGTERM, a clean stop that leaves them to the next start);
//   - jobs per second through the containerised emulator beside the same jobs through the same build of the
//     emulator on this machine (bin/htc-emulator.js), same settings and concurrency, taking turns in one run;
//   - the image's size.
// The image is built first when it is missing or stale (images/build.sh htcemu/emulator). Without a Docker engine
// the scenario is skipped, unless HTC_REQUIRE_DOCKER=1 (CI) makes that an error.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ensureEmulatorImage } from "../../../images/emulator/ensure.mjs";
import { type BenchContext, bearerToken, formatNumber, Http, median, type Row, type ScenarioReport, sleep, tempDir } from "./common.js";
import { freePort } from "./peers.js";

export const HEALTHY_TARGET_MS = 2000;
export const STOP_TARGET_MS = 5000;
export const THROUGHPUT_RATIO_TARGET = 0.9;
export const IMAGE_SIZE_TARGET_MB = 200;

const HTC_EMULATOR = fileURLToPath(new URL("../bin/htc-emulator.js", import.meta.url));
const JOB = { imageName: "htcemu/shell:1", commands: ["sh", "-c", "echo hi"], maxVCpus: 1, maxMemory: 256 };
const CAPACITY_VCPUS = 4;

async function docker(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("docker", args, { timeout: 120_000 });
  return stdout.trim();
}

interface Running {
  baseUrl: string;
  http: Http;
  stop(): Promise<void>;
}

/** The image with the README's flags; `extra` after the image's name. Ready once the probe answers from here. */
async function runContainer(ctx: BenchContext, image: string, extra: string[], data?: string): Promise<Running & { id: string }> {
  const port = await freePort();
  const id = await docker([
    "run",
    "-d",
    "--network",
    "host",
    "-v",
    "/var/run/docker.sock:/var/run/docker.sock",
    ...(data ? ["-v", `${data}:/data`] : []),
    "-e",
    `HTC_EMULATOR_PORT=${port}`,
    "-e",
    "HTC_EMULATOR_API_KEY=bench-container-key",
    image,
    ...extra,
  ]);
  ctx.scope.defer(`remove the emulator's container ${id.slice(0, 12)}`, async () => {
    await docker(["rm", "-f", "-v", id]).catch(() => "");
  });
  const baseUrl = `http://127.0.0.1:${port}/api/v1`;
  await untilReady(`http://127.0.0.1:${port}`);
  const http = new Http(baseUrl, await bearerToken(baseUrl, "bench-container-key"));
  return { id, baseUrl, http, stop: () => docker(["stop", "-t", "10", id]).then(() => {}) };
}

/** The same build on this machine: bin/htc-emulator.js with the same flags. */
async function runHost(ctx: BenchContext, extra: string[]): Promise<Running> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [HTC_EMULATOR, "--port", String(port), "--api-key", "bench-host-key-1", ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  ctx.scope.defer("stop the emulator on the host", stop);
  const baseUrl = `http://127.0.0.1:${port}/api/v1`;
  await untilReady(`http://127.0.0.1:${port}`, () => (child.exitCode !== null ? `it exited: ${stderr}` : undefined));
  return { baseUrl, http: new Http(baseUrl, await bearerToken(baseUrl, "bench-host-key-1")), stop };
}

async function untilReady(rootUrl: string, failed: () => string | undefined = () => undefined, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      if ((await fetch(`${rootUrl}/_emulator/ready`)).status === 200) return performance.now() - started;
    } catch {
      // Not listening yet.
    }
    const why = failed();
    if (why) throw new Error(`the emulator did not start: ${why}`);
    if (performance.now() - started > timeoutMs) throw new Error(`${rootUrl} not ready within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** `docker run` → healthy and → ready, in ms, for one start of the README's command (state in a fresh folder). */
async function timeStart(ctx: BenchContext, image: string): Promise<{ healthy: number; ready: number }> {
  const data = await tempDir(ctx.scope, "container-start");
  const port = await freePort();
  const started = performance.now();
  const id = await docker([
    "run",
    "-d",
    "--network",
    "host",
    "-v",
    "/var/run/docker.sock:/var/run/docker.sock",
    "-v",
    `${data}:/data`,
    "-e",
    `HTC_EMULATOR_PORT=${port}`,
    image,
  ]);
  try {
    const readyAt = untilReady(`http://127.0.0.1:${port}`).then(() => performance.now() - started);
    let healthy: number | undefined;
    while (healthy === undefined) {
      const status = await docker(["inspect", "--format", "{{.State.Health.Status}}", id]);
      if (status === "healthy") healthy = performance.now() - started;
      else if (status === "unhealthy") throw new Error(`${image} turned unhealthy: ${await docker(["logs", id])}`);
      else if (performance.now() - started > 60_000) throw new Error(`${image} not healthy within 60 s`);
      else await sleep(20);
    }
    return { healthy, ready: await readyAt };
  } finally {
    await docker(["rm", "-f", "-v", id]);
  }
}

/** Submits `n` jobs in one batch and waits until all succeeded; jobs per second from submit to the last end. */
async function throughput(emulator: Running, n: number, name: string): Promise<number> {
  const { taskPath } = await emulator.http.projectAndTask(name);
  const started = performance.now();
  await emulator.http.call("POST", `${taskPath}/jobs/batch`, [{ jobName: name, batchSize: n, htcJobDefinition: JOB }]);
  for (;;) {
    const { jobStatuses } = await emulator.http.call<{ jobStatuses: Record<string, number> }>("GET", `${taskPath}/summary-statistics`);
    const failed = jobStatuses["FAILED"] ?? 0;
    if (failed) throw new Error(`${failed} of the ${name} jobs failed`);
    if ((jobStatuses["SUCCEEDED"] ?? 0) === n) return n / ((performance.now() - started) / 1000);
    if (performance.now() - started > 600_000) throw new Error(`the ${name} jobs did not finish within 10 minutes`);
    await sleep(50);
  }
}

/** `docker stop` of an emulator whose jobs are running; ms. The jobs' containers are removed afterwards. */
async function timeStop(emulator: Running & { id: string }): Promise<number> {
  const { taskPath, taskId } = await emulator.http.projectAndTask("stop");
  await emulator.http.call("POST", `${taskPath}/jobs/batch`, [
    { jobName: "stop", batchSize: CAPACITY_VCPUS * 2, htcJobDefinition: { ...JOB, commands: ["sh", "-c", "sleep 30"] } },
  ]);
  const deadline = performance.now() + 60_000;
  for (;;) {
    const { jobStatuses } = await emulator.http.call<{ jobStatuses: Record<string, number> }>("GET", `${taskPath}/summary-statistics`);
    if ((jobStatuses["RUNNING"] ?? 0) === CAPACITY_VCPUS) break;
    if (performance.now() > deadline) throw new Error(`jobs did not start: ${JSON.stringify(jobStatuses)}`);
    await sleep(50);
  }
  const started = performance.now();
  await emulator.stop();
  const ms = performance.now() - started;
  const code = await docker(["inspect", "--format", "{{.State.ExitCode}}", emulator.id]);
  if (code !== "0") throw new Error(`the emulator exited with ${code} on docker stop: ${await docker(["logs", emulator.id])}`);
  // Left running for the next start on the same folder: there is none here.
  const left = (await docker(["ps", "-aq", "--filter", `label=org.htcemu.task-id=${taskId}`])).split("\n").filter(Boolean);
  if (left.length) await docker(["rm", "-f", ...left]);
  return ms;
}

export async function container(ctx: BenchContext): Promise<ScenarioReport> {
  let image: ReturnType<typeof ensureEmulatorImage>;
  try {
    image = ensureEmulatorImage();
  } catch (error) {
    throw new Error(`building the image failed: ${(error as Error).message}`);
  }
  if (!image.ok) return { rows: [], notes: [], skipped: image.reason };
  const sizeMb = Number(await docker(["image", "inspect", "--format", "{{.Size}}", image.image])) / 1e6;

  const starts = ctx.quick ? 1 : 5;
  const healthy: number[] = [];
  const ready: number[] = [];
  for (let i = 0; i < starts; i++) {
    const t = await timeStart(ctx, image.image);
    healthy.push(t.healthy);
    ready.push(t.ready);
  }
  ctx.log(
    `docker run → healthy ${healthy.map((ms) => ms.toFixed(0)).join(", ")} ms; → ready ${ready.map((ms) => ms.toFixed(0)).join(", ")} ms`,
  );

  // The same flags on both sides: state in a folder (as the README runs it), Docker executor, no registry (not
  // used by these jobs).
  const flags = ["--executor", "docker", "--capacity-vcpus", String(CAPACITY_VCPUS), "--registry", "off"];
  const n = ctx.quick ? 4 : 40;
  const rounds = ctx.quick ? 1 : 5;
  const containerised = await runContainer(ctx, image.image, flags, await tempDir(ctx.scope, "container-jobs"));
  const host = await runHost(ctx, ["--data-dir", await tempDir(ctx.scope, "host-jobs"), ...flags]);
  await throughput(containerised, 1, "warm-up");
  await throughput(host, 1, "warm-up");
  const inContainer: number[] = [];
  const onHost: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Taking turns, the order swapped every round, so neither side always runs on a warmer machine.
    const order = round % 2 === 0 ? ([inContainer, onHost] as const) : ([onHost, inContainer] as const);
    for (const into of order) into.push(await throughput(into === inContainer ? containerised : host, n, `round-${round}`));
  }
  await host.stop();

  // The last stop is that of the containerised emulator above; the others (full mode) of fresh ones with their
  // state in a folder, as the README runs it.
  const stops: number[] = [];
  for (let i = 1; i < (ctx.quick ? 1 : 3); i++) {
    const data = await tempDir(ctx.scope, "container-stop");
    stops.push(await timeStop(await runContainer(ctx, image.image, ["--capacity-vcpus", String(CAPACITY_VCPUS)], data)));
  }
  stops.push(await timeStop(containerised));
  ctx.log(`docker stop with jobs running: ${stops.map((ms) => ms.toFixed(0)).join(", ")} ms`);

  // Each round's two runs are back to back, so their ratio is what a shared machine's changing load disturbs
  // least: the figure is the median of the rounds' ratios (and of each side's rates).
  const ratios = inContainer.map((rate, round) => rate / onHost[round]!);
  const containerRate = median(inContainer);
  const hostRate = median(onHost);
  const ratio = median(ratios);
  ctx.log(
    `jobs/s in the container ${inContainer.map((v) => v.toFixed(1)).join(", ")}; on the host ${onHost.map((v) => v.toFixed(1)).join(", ")}`,
  );

  const how = (runs: number) => (runs === 1 ? "one run" : `median of ${runs}`);
  const perRound = rounds === 1 ? "one run" : `median of ${rounds} rounds`;
  const rows: Row[] = [
    {
      figure: "docker run → healthy (HEALTHCHECK)",
      target: { op: "<", value: HEALTHY_TARGET_MS },
      measured: median(healthy),
      unit: "ms",
      how: how(starts),
    },
    { figure: "docker run → ready, seen from the host", measured: median(ready), unit: "ms", how: how(starts) },
    {
      figure: "docker stop, jobs running",
      target: { op: "<", value: STOP_TARGET_MS },
      measured: Math.max(...stops),
      unit: "ms",
      how: `slowest of ${stops.length}`,
    },
    { figure: `C=${CAPACITY_VCPUS}: jobs through the containerised emulator`, measured: containerRate, unit: "jobs/s", how: perRound },
    { figure: `C=${CAPACITY_VCPUS}: the same jobs through the emulator on the host`, measured: hostRate, unit: "jobs/s", how: perRound },
    {
      figure: "  containerised ÷ host, round by round",
      target: { op: ">=", value: THROUGHPUT_RATIO_TARGET },
      measured: ratio,
      unit: "×",
      how: perRound,
      comparison: {
        what: `jobs through the htcemu/emulator image (--network host, the engine's socket), ${CAPACITY_VCPUS} in flight`,
        emulator: `${formatNumber(containerRate)} jobs/s`,
        peer: "the same build on the host (bin/htc-emulator.js), same jobs and flags",
        peerFigure: `${formatNumber(hostRate)} jobs/s`,
        ratio,
        target: `>= ${THROUGHPUT_RATIO_TARGET}×`,
      },
    },
    {
      figure: `image size (${image.image})`,
      target: { op: "<", value: IMAGE_SIZE_TARGET_MB },
      measured: sizeMb,
      unit: "MB",
      how: "docker image inspect",
    },
  ];
  return {
    rows,
    notes: [
      `${n} jobs per run after a warm-up job, ${JOB.imageName} (${JOB.commands.join(" ")}), ${CAPACITY_VCPUS} in flight, state in a folder, no registry; the host side runs bin/htc-emulator.js of the same build`,
      "start: the README's command (host network, the engine's socket, state in a fresh folder); healthy is Docker's status from the image's HEALTHCHECK",
      `stop: docker stop of the README's command with ${CAPACITY_VCPUS} jobs running, which it leaves to the next start on the folder`,
    ],
  };
}
