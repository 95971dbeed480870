// The official Rescale HTC tutorial (rescale-labs/Api_HtcAPI_Tutorial), as one program to read top to bottom.
//
// The problem: among a few thousand heat-map grids, find the one with the hottest rectangle (the largest sum of
// an axis-aligned rectangle of its values). The grids are generated from a seed with one hotspot planted, so the
// program knows the answer and checks it. The journey is the tutorial's: build and test the job image locally,
// create a project, push the image to the project's registry, upload the inputs and an index file to the
// project's shared storage, create a task, submit one job that fails, read its logs, fix it, submit a batch of
// 1000 jobs in a group (each finds its chunk of the index from AWS_BATCH_JOB_ARRAY_INDEX and CHUNK_SIZE), monitor
// the group and chart its status counts, download and aggregate the results, delete the task; then a second task
// whose jobs fail or hang on purpose, cancelled once more than 20 % have failed, and a table of why they failed.
//
//   pnpm tutorial                                     against an emulator started here (Docker executor)
//   HTC_BASE_URL=https://htc.rescale.com/api/v1 RESCALE_API_KEY=… pnpm tutorial       against production
//   pnpm --filter @htcemu/tutorial test               always the emulator (CI; HTC_REQUIRE_DOCKER=1 needs the registry)
//
// Outputs go to examples/tutorial/out/ (the chart, the samples, the downloaded results, a summary).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type components, jobId, paginate, unwrap, type Writable } from "@htcemu/client";
import { offPartsBanner, probeParts } from "@htcemu/emulator";
import { type Sample, STATUSES, samplesCsv, statusChart } from "./chart.js";
import { bar, bold, dim, green, ProgressLine, red, run, Steps, say, showCommand, table, yellow } from "./console.js";
import { generateInputs } from "./inputs.js";
import { openTarget, TUTORIAL_EMULATOR, type Target } from "./target.js";

// --- Settings -----------------------------------------------------------------------------------------------
const JOBS = Number(process.env["HTC_TUTORIAL_JOBS"] ?? 1000); // one batch: at most 1000 jobs
const CHUNK_SIZE = 2; // grids per job, passed to the jobs as the user variable CHUNK_SIZE
const GRIDS = JOBS * CHUNK_SIZE;
const GRID_SIZE = 48; // rows and columns of each grid
const SEED = Number(process.env["HTC_TUTORIAL_SEED"] ?? 20240402);
const REPO = "hotspot-htc-tutorial";
const TAG = "v1";
const IMAGE = `${REPO}:${TAG}`; // as jobs name it: relative to the project's registry
const FAILURE_THRESHOLD = 0.2; // cancel the second group when more than this share of finished jobs failed
const BUDGET_SECONDS = 180;

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");
const outDir = resolve(here, "../out");
const inputsDir = join(outDir, "inputs");
const htcctlBin = join(outDir, "bin", "htcctl.cjs");
const steps = new Steps(12);
let target: Target | undefined;
let dockerConfig: string | undefined;
let registryHost: string | undefined;

// Ctrl-C: stop the emulator (and with it the job containers) before leaving.
process.once("SIGINT", () => {
  console.error(`\n${red("interrupted")}: cleaning up`);
  cleanUp().finally(() => process.exit(130));
});

try {
  check(Number.isInteger(JOBS) && JOBS >= 1 && JOBS <= 1000, "HTC_TUTORIAL_JOBS must be from 1 to 1000 (one batch)");
  console.log(bold(`Rescale HTC tutorial: find the hottest of ${GRIDS} heat-map grids with ${JOBS} jobs`));
  // Against an emulator, first what is off on this machine and the command that turns each part on.
  if (process.argv.includes("--emulator") || !(process.env["HTC_BASE_URL"] && process.env["RESCALE_API_KEY"])) {
    const off = offPartsBanner(await probeParts(TUTORIAL_EMULATOR));
    if (off) console.log(`${yellow(off.trimEnd())}\n${dim("(step 1 runs the set-up, which turns on what it can here)")}`);
  }

  // --- 1. Docker, the job images, htcctl --------------------------------------------------------------------
  steps.begin(1, "Prepare Docker, the job images and htcctl");
  // A Docker engine (installed and started on a bare Debian/Ubuntu machine), then the images, built offline:
  // htcemu/node:20 carries node, htcctl (/usr/local/bin) and this tutorial's workload (/opt/workload).
  await run("bash", [join(repoRoot, "scripts/docker/ensure-engine.sh")], { echo: true, display: "bash scripts/docker/ensure-engine.sh" });
  await run("bash", [join(repoRoot, "images/build.sh")], { echo: true, display: "bash images/build.sh" });
  // htcctl on this machine too (the official tutorial pip-installs it): the same single-file bundle as in the image.
  mkdirSync(dirname(htcctlBin), { recursive: true });
  await run(process.execPath, [join(repoRoot, "apps/htcctl/scripts/bundle.mjs"), htcctlBin], {
    display: `node apps/htcctl/scripts/bundle.mjs ${rel(htcctlBin)}`,
  });
  say(
    `installed ${(await run(process.execPath, [htcctlBin, "--version"], { display: "htcctl --version" })).stdout.trim()} as ${rel(htcctlBin)}`,
  );

  // --- 2. The input set -----------------------------------------------------------------------------------
  steps.begin(2, "Generate the input set");
  const inputs = generateInputs(inputsDir, { count: GRIDS, rows: GRID_SIZE, cols: GRID_SIZE, seed: SEED });
  say(
    `${inputs.keys.length} grids of ${GRID_SIZE}×${GRID_SIZE} integers (seed ${SEED}), ${(inputs.bytes / 1e6).toFixed(1)} MB, in ${rel(inputsDir)}/grids/`,
  );
  say(`index file ${rel(join(inputsDir, inputs.indexFile))}: one object key per line, ${inputs.keys[0]} … ${inputs.keys.at(-1)}`);
  say(dim(`(the generator planted a hotspot in one grid: the jobs have to find which)`));

  // --- 3. Build and test the image locally ----------------------------------------------------------------
  steps.begin(3, "Build and test the workload image locally");
  const buildEnv = { ...process.env, ...((await hasBuildx()) ? {} : { DOCKER_BUILDKIT: "0" }) };
  await run("docker", ["build", "-q", "-t", IMAGE, join(here, "../image")], {
    env: buildEnv,
    display: `docker build -t ${IMAGE} examples/tutorial/image`,
  });
  await run("docker", ["run", "--rm", "--network", "none", IMAGE, "node", "/opt/workload/hotspot.mjs", "--self-test"], { echo: true });
  const sample = await scoreLocally(inputs.keys[0]!);
  say(
    `grid 0: hottest rectangle sums to ${sample.sum} (rows ${sample.top}-${sample.bottom}, columns ${sample.left}-${sample.right}) in ${sample.ms} ms`,
  );

  // --- 4. Connect, create a project -----------------------------------------------------------------------
  steps.begin(4, "Connect and create a project");
  target = await openTarget(outDir, {
    requireRegistry: process.env["HTC_REQUIRE_DOCKER"] === "1",
    emulatorOnly: process.argv.includes("--emulator"),
  });
  const { htc } = target;
  say(`target: ${target.describe}`);
  if (target.off.length > 0) console.log(yellow(offPartsBanner(target.off).trimEnd()));
  const me = await unwrap(htc.api.GET("/auth/whoami"));
  say(`signed in as ${me.user.fullName} <${me.user.email}>, workspace ${me.user.workspace.name}`);
  const regions = await unwrap(htc.api.GET("/htc/regions"));
  say(
    `${regions.length} compute regions, e.g. ${regions
      .slice(0, 3)
      .map((r) => `${r.region} (${r.supportedArchitectures?.join(", ")})`)
      .join(", ")}`,
  );
  const project = await unwrap(
    htc.api.POST("/htc/projects", { body: { projectName: "htc-tutorial", projectDescription: "Tutorial project: hotspot search" } }),
  );
  const projectId = project.projectId;
  say(`project ${projectId}, regions ${project.regions?.join(", ")}, registry ${project.containerRegistry}`);

  // --- 5. The project's registry: a repository, the image pushed ------------------------------------------
  steps.begin(5, "Create a repository and push the image");
  if (target.kind === "emulator" && !target.registry) {
    const off = target.off.find((part) => part.part === "registry");
    say(
      yellow(
        `this emulator has no registry (${off?.why ?? "it is off"}; turn on: ${off?.fix ?? "see above"}): jobs use the engine's local image`,
      ),
    );
  } else {
    const repo = await unwrap(
      htc.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", { params: { path: { projectId, repoName: REPO } } }),
    );
    say(`repository ${repo.registryURI}${repo.repositoryName} (created: ${repo.successfullyCreated})`);
    const password = await unwrap(
      htc.api.GET("/htc/projects/{projectId}/container-registry/token", { params: { path: { projectId } }, parseAs: "text" }),
    );
    registryHost = repo.registryURI.split("/")[0]!;
    // A docker configuration of our own, so that the login does not end up in ~/.docker.
    dockerConfig = mkdtempSync(join(tmpdir(), "htc-tutorial-docker-"));
    const docker = (args: string[], input?: string) =>
      run("docker", args, { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, ...(input ? { input } : {}) });
    await docker(["login", "--username", "AWS", "--password-stdin", registryHost], password.trim());
    await docker(["tag", IMAGE, `${repo.registryURI}${IMAGE}`]);
    await docker(["push", "-q", `${repo.registryURI}${IMAGE}`]);
    const images = await unwrap(htc.api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId } } }));
    say(`images in the registry: ${images.images.join(", ")}`);
    await waitUntil(
      async () => {
        const status = await unwrap(
          htc.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
            params: { path: { projectId, imageName: IMAGE } },
          }),
        );
        say(`${IMAGE}: ${status.status}`);
        return status.status === "READY";
      },
      target.kind === "emulator" ? 500 : 10_000,
    );
  }

  // --- 6. Inputs to the project's shared storage, with htcctl ---------------------------------------------
  steps.begin(6, "Upload the input set and the index file to the project's shared storage");
  // htcctl keeps the path given on its command line in the object key, so it runs from the inputs folder:
  // grids/grid-00042.txt becomes the key grids/grid-00042.txt.
  await htcctl(["--project-shared", "--project-id", projectId, "-q", "-j", "16", "upload", "grids", inputs.indexFile], inputsDir);
  const listed = (await htcctl(["-s", "--project-id", projectId, "list"], inputsDir, { quiet: true })).stdout.trim().split("\n");
  say(`${listed.length} objects in the project's shared storage: ${listed.slice(0, 2).join(", ")}, … ${listed.at(-1)}`);
  check(listed.length === GRIDS + 1, `expected ${GRIDS + 1} objects in the shared storage, found ${listed.length}`);

  // --- 7. A task ------------------------------------------------------------------------------------------
  steps.begin(7, "Create a task");
  const task = await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId } },
      body: { taskName: "hotspot-search", taskDescription: `${GRIDS} grids, seed ${SEED}` },
    }),
  );
  const ids = { projectId, taskId: task.taskId };
  say(`task ${task.taskId}, storage ${task.taskFolderPath}`);

  // --- 8. One job first: it fails; its logs say why; fixed, it succeeds ------------------------------------
  steps.begin(8, "Submit one job: it fails, its logs say why, the fix succeeds");
  // Always try one job (batchSize 1) before a batch. This definition forgets the CHUNK_SIZE variable.
  const definition: JobDefinition = {
    imageName: IMAGE,
    maxVCpus: 1,
    maxMemory: 256,
    commands: ["node", "/opt/workload/hotspot.mjs"],
    envs: [{ name: "INDEX_KEY", value: inputs.indexFile }],
    execTimeoutSeconds: 600,
  };
  const broken = await submitOne(ids, definition);
  say(`job ${broken.jobId} ended ${red(broken.status)}: exit code ${broken.exitCode}, ${broken.reason}`);
  check(broken.status === "FAILED", "the job without CHUNK_SIZE should have failed");
  say("its logs:");
  for (const line of await logsOf(ids, broken.jobId)) say(`  ${dim(line)}`);
  // The traceback names the missing variable: add it and submit again.
  const fixedDefinition: JobDefinition = {
    ...definition,
    envs: [...(definition.envs ?? []), { name: "CHUNK_SIZE", value: String(CHUNK_SIZE) }],
  };
  const fixed = await submitOne(ids, fixedDefinition);
  say(`job ${fixed.jobId} ended ${fixed.status === "SUCCEEDED" ? green(fixed.status) : red(fixed.status)}; its logs:`);
  for (const line of await logsOf(ids, fixed.jobId)) say(`  ${dim(line)}`);
  check(fixed.status === "SUCCEEDED", "the fixed job should have succeeded");

  // --- 9. The batch ---------------------------------------------------------------------------------------
  steps.begin(9, `Submit ${JOBS} jobs in a group and monitor them until done`);
  const group = `htc-tutorial-jobgroup-${Math.floor(Date.now() / 1000)}`;
  const [batch] = await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path: ids, query: { group } },
      body: [{ jobName: "hotspot", batchSize: JOBS, htcJobDefinition: fixedDefinition }],
    }),
  );
  say(`batch ${batch!.parentJobId} in group ${group}: job i scores grids ${CHUNK_SIZE}·i … ${CHUNK_SIZE}·i+${CHUNK_SIZE - 1} of the index`);
  const monitored = await monitorGroup(ids, group, JOBS);
  writeChart("status-counts", monitored.samples, `${JOBS} jobs of group ${group}`);
  check(monitored.counts["SUCCEEDED"] === JOBS, `${monitored.counts["FAILED"] ?? 0} job(s) of the batch failed`);

  // --- 10. Results --------------------------------------------------------------------------------------------
  steps.begin(10, "Download the results from the task's storage and aggregate them");
  const downloadDir = join(outDir, "downloaded");
  rmSync(downloadDir, { recursive: true, force: true });
  await htcctl(["--project-id", projectId, "--task-id", task.taskId, "-q", "-j", "16", "download", "results", "-d", "downloaded"], outDir);
  const parts = readdirSync(join(downloadDir, "results")).filter((f) => f.endsWith(".json"));
  const results = parts.flatMap(
    (f) => (JSON.parse(readFileSync(join(downloadDir, "results", f), "utf8")) as { results: GridResult[] }).results,
  );
  say(`${parts.length} result files with ${results.length} grid scores, in ${rel(downloadDir)}/results/`);
  const scored = new Set(results.map((r) => r.grid));
  check(
    parts.length === JOBS && results.length === GRIDS && scored.size === GRIDS,
    `expected ${JOBS} parts covering ${GRIDS} grids once each`,
  );
  const ranked = [...results].sort((a, b) => b.sum - a.sum);
  say(
    table(
      ["rank", "grid", "sum", "rows", "columns"],
      ranked.slice(0, 5).map((r, i) => [i + 1, r.grid, r.sum, `${r.top}-${r.bottom}`, `${r.left}-${r.right}`]),
    ),
  );
  const [winner, runnerUp] = ranked as [GridResult, GridResult];
  const { planted } = inputs;
  check(winner.grid === planted.key, `the winner ${winner.grid} is not the grid with the planted hotspot, ${planted.key}`);
  check(winner.sum > runnerUp.sum, "the winner is not unique");
  const overlap =
    winner.top <= planted.bottom && planted.top <= winner.bottom && winner.left <= planted.right && planted.left <= winner.right;
  check(overlap, "the winning rectangle misses the planted hotspot");
  const again = await scoreLocally(winner.grid);
  check(
    again.sum === winner.sum && again.top === winner.top && again.left === winner.left,
    "scoring the winner locally gives another answer",
  );
  say(
    green(
      `✓ ${winner.grid} wins with ${winner.sum} (runner-up ${runnerUp.grid}: ${runnerUp.sum}): the planted hotspot (rows ${planted.top}-${planted.bottom}, columns ${planted.left}-${planted.right}), confirmed by a local run`,
    ),
  );

  // --- 11. Clean up -------------------------------------------------------------------------------------------
  steps.begin(11, "Delete the task");
  const deleted = await unwrap(htc.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }));
  say(`task ${deleted.taskId}: ${deleted.lifecycleStatus} at ${deleted.deletedAt}`);

  // --- 12. Failures, timeouts and cancellation --------------------------------------------------------------
  steps.begin(12, "Second task: simulated failures and timeouts, cancelled when more than 20% fail");
  const task2 = await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId } },
      body: { taskName: "hotspot-failures", taskDescription: "SIMULATE_FAILURES" },
    }),
  );
  const ids2 = { projectId, taskId: task2.taskId };
  // 30 % of the jobs fail on purpose: half crash, half hang until their 60-second limit. Against the emulator its
  // clock runs 60 times faster for this step, so a minute of job time passes in a second.
  if (target.admin) {
    await target.admin.setSpeed(60);
    say(dim("emulator clock: 60× real time (POST /_emulator/v1/clock {speed: 60})"));
  }
  const group2 = `htc-tutorial-jobgroup-${Math.floor(Date.now() / 1000)}-failures`;
  const failingDefinition: JobDefinition = {
    ...fixedDefinition,
    envs: [...(fixedDefinition.envs ?? []), { name: "SIMULATE_FAILURES", value: "0.3" }],
    execTimeoutSeconds: 60,
  };
  await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path: ids2, query: { group: group2 } },
      body: [{ jobName: "hotspot-failures", batchSize: JOBS, htcJobDefinition: failingDefinition }],
    }),
  );
  say(`${JOBS} jobs in group ${group2}, SIMULATE_FAILURES=0.3, execTimeoutSeconds 60`);
  const failing = await monitorGroup(ids2, group2, JOBS, {
    cancelWhen: (succeeded, failed) => succeeded + failed >= 20 && failed / (succeeded + failed) > FAILURE_THRESHOLD,
  });
  if (target.admin) await target.admin.setSpeed(1);
  writeChart(
    "status-counts-failures",
    failing.samples,
    `${JOBS} jobs of group ${group2}${failing.cancelledAt !== undefined ? ` (cancelled after ${failing.cancelledAt.toFixed(0)} s)` : ""}`,
  );
  // Either the group was cancelled, or it finished with no more than 20 % failed (small groups can).
  const finalFailed = failing.counts["FAILED"] ?? 0;
  check(
    failing.cancelledAt !== undefined || finalFailed <= FAILURE_THRESHOLD * JOBS,
    "more than 20% of the jobs failed, yet the group was not cancelled",
  );
  if (failing.cancelledAt === undefined)
    say(yellow(`every job ended before more than 20% had failed (${finalFailed} of ${JOBS}): nothing to cancel`));

  // The tutorial's last table: why the FAILED jobs failed, as "failureCode:statusReason" counts.
  const reasons = new Map<string, number>();
  let crashed: string | undefined;
  for await (const job of paginate(htc, "/htc/projects/{projectId}/tasks/{taskId}/jobs", {
    params: { path: ids2, query: { group: group2, status: "FAILED", viewType: "SIMPLE" } },
  })) {
    const key = `${job.failureCode}:${job.statusReason}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
    if (job.failureCode === "ErrorNonZeroContainerExitCode") crashed ??= job.jobUUID;
  }
  say(
    table(
      ["jobs", "failureCode:statusReason"],
      [...reasons].sort((a, b) => b[1] - a[1]).map(([key, n]) => [n, key]),
    ),
  );
  if (crashed) {
    say(`the logs of ${crashed}, one of the crashed jobs:`);
    for (const line of (await logsOf(ids2, crashed)).filter((l) => /Error|hotspot:|at /.test(l)).slice(0, 4)) say(`  ${dim(line)}`);
  }
  const codes = [...reasons.keys()].join("\n");
  if (JOBS >= 100) check(codes.includes("ErrorNonZeroContainerExitCode"), "no job failed with a non-zero exit code");
  if (target.kind === "emulator" && failing.cancelledAt !== undefined) {
    check(codes.includes("Cancelled by user"), "no job shows the cancellation");
    if (!codes.includes("ErrorTimeout")) say(yellow("no job reached its time limit before the cancellation this time"));
  }
  await unwrap(htc.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids2 } }));
  say(`task ${task2.taskId} deleted`);
  steps.end();

  // --- Summary ------------------------------------------------------------------------------------------------
  const total = steps.elapsed();
  console.log(`\n${bold("Summary")}`);
  say(
    table(
      ["step", "seconds"],
      [...steps.timings.map((s) => [`${s.number}. ${s.title}`, s.seconds.toFixed(1)]), ["total", total.toFixed(1)]],
    ),
  );
  say(
    `outputs in ${rel(outDir)}/: status-counts.svg, status-counts-failures.svg (charts), *.csv (samples), downloaded/results/, summary.json`,
  );
  writeFileSync(
    join(outDir, "summary.json"),
    `${JSON.stringify({ target: target.kind, jobs: JOBS, grids: GRIDS, winner, runnerUp, planted, failures: Object.fromEntries(reasons), steps: steps.timings, totalSeconds: total }, null, 2)}\n`,
  );
  if (target.kind === "emulator" && total > BUDGET_SECONDS)
    say(yellow(`the run took ${total.toFixed(0)} s, more than the ${BUDGET_SECONDS} s it should take on a quiet 2-core machine`));
  console.log(`\n${green(bold("✓ Tutorial complete"))} in ${total.toFixed(1)} s`);
  await cleanUp();
} catch (error) {
  console.error(`\n${red(bold("✗ Tutorial failed"))}${steps.failing ? ` in ${steps.failing}` : ""}: ${(error as Error).message}`);
  if (process.env["HTC_TUTORIAL_DEBUG"]) console.error((error as Error).stack);
  await cleanUp().catch(() => {});
  process.exitCode = 1;
}

// --- Helpers (used above) -------------------------------------------------------------------------------------

type TaskIds = { projectId: string; taskId: string };
type JobDefinition = Writable<components["schemas"]["HTCJobDefinition"]>;

interface GridResult {
  grid: string;
  sum: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
  ms: number;
}

function rel(path: string): string {
  return relative(process.cwd(), path) || ".";
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function waitUntil(done: () => Promise<boolean>, intervalMs: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}

async function hasBuildx(): Promise<boolean> {
  return (await run("docker", ["buildx", "version"], { allowFailure: true, display: false })).code === 0;
}

/** Runs the image on one grid of the input set (fed on stdin), as the jobs would score it. */
async function scoreLocally(key: string): Promise<GridResult> {
  const result = await run("docker", ["run", "--rm", "-i", "--network", "none", IMAGE, "node", "/opt/workload/hotspot.mjs", "/dev/stdin"], {
    input: readFileSync(join(inputsDir, key)),
    display: `docker run --rm -i ${IMAGE} node /opt/workload/hotspot.mjs /dev/stdin < ${rel(join(inputsDir, key))}`,
  });
  return JSON.parse(result.stdout) as GridResult;
}

/** `htcctl …` on this machine with the API key, as the official tutorial runs it outside jobs. */
function htcctl(args: string[], cwd: string, options: { quiet?: boolean } = {}) {
  const t = target!;
  return run(process.execPath, [htcctlBin, ...args], {
    cwd,
    env: { PATH: process.env["PATH"], HOME: process.env["HOME"], RESCALE_API_TOKEN: t.apiKey, RESCALE_HTC_API_URL: t.baseUrl },
    display: `RESCALE_API_TOKEN=… htcctl ${args.join(" ")}`,
    echo: !options.quiet,
  });
}

/** Submits a batch of one job and waits, through its events, until it has ended (the tutorial's first check). */
async function submitOne(ids: TaskIds, htcJobDefinition: JobDefinition) {
  const t = target!;
  const [batch] = await unwrap(
    t.htc.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path: ids },
      body: [{ jobName: "hotspot-test", batchSize: 1, htcJobDefinition }],
    }),
  );
  const id = jobId(batch!.parentJobId!, 0);
  showCommand(`poll GET …/jobs/${id}/events until SUCCEEDED or FAILED`);
  for (;;) {
    const events = await unwrap(
      t.htc.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", { params: { path: { ...ids, jobId: id } } }),
    );
    const end = events.items.find((e) => e.status === "SUCCEEDED" || e.status === "FAILED");
    if (end) return { jobId: id, status: end.status, exitCode: end.container?.exitCode ?? null, reason: end.statusReason ?? "" };
    say(dim(`${events.items.at(-1)?.status ?? "submitted"}…`));
    await sleep(t.pollMs);
  }
}

async function logsOf(ids: TaskIds, id: string): Promise<string[]> {
  const t = target!;
  const page = await unwrap(
    t.htc.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
      params: { path: { ...ids, jobId: id }, query: { sort: "asc", pageSize: 1000 } },
    }),
  );
  return page.items.map((l) => l.message);
}

interface Monitored {
  samples: Sample[];
  counts: Record<string, number>;
  cancelledAt?: number;
}

/**
 * Polls the group's status counts until every job has ended (SUCCEEDED + FAILED = jobs), recording them over
 * time; with `cancelWhen`, cancels the group the first time it says so and waits for the cancellation to land.
 */
async function monitorGroup(
  ids: TaskIds,
  group: string,
  jobs: number,
  options: { cancelWhen?: (succeeded: number, failed: number) => boolean } = {},
): Promise<Monitored> {
  const t = target!;
  const started = performance.now();
  const samples: Sample[] = [];
  const progress = new ProgressLine();
  let cancelledAt: number | undefined;
  showCommand(`poll GET …/group-summary-statistics?group=${group} every ${t.pollMs / 1000} s`);
  for (;;) {
    const page = await unwrap(
      t.htc.api.GET("/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics", {
        params: { path: ids, query: { group: [group] } },
      }),
    );
    const counts: Record<string, number> = { ...(page.items?.find((i) => i.group === group)?.jobStatuses ?? {}) };
    const seconds = (performance.now() - started) / 1000;
    samples.push({ t: seconds, counts });
    const succeeded = counts["SUCCEEDED"] ?? 0;
    const failed = counts["FAILED"] ?? 0;
    const running = counts["RUNNING"] ?? 0;
    const waiting = jobs - succeeded - failed - running;
    const rate = (succeeded + failed) / Math.max(seconds, 0.001);
    const line = `${bar(succeeded + failed, jobs)} ${succeeded + failed}/${jobs} done · ${green(`${succeeded} succeeded`)} · ${failed ? red(`${failed} failed`) : "0 failed"} · ${running} running · ${waiting} waiting · ${rate.toFixed(1)} jobs/s · ${seconds.toFixed(0)} s`;
    if (succeeded + failed >= jobs) {
      progress.finish(line);
      return { samples, counts, ...(cancelledAt !== undefined ? { cancelledAt } : {}) };
    }
    progress.update(line);
    if (options.cancelWhen && cancelledAt === undefined && options.cancelWhen(succeeded, failed)) {
      cancelledAt = seconds;
      progress.finish(line);
      say(
        yellow(
          `${failed} of ${succeeded + failed} finished jobs failed (${((100 * failed) / (succeeded + failed)).toFixed(1)}% > ${FAILURE_THRESHOLD * 100}%): cancelling the group`,
        ),
      );
      showCommand(`POST …/jobs/cancel?group=${group}`);
      await unwrap(t.htc.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", { params: { path: ids, query: { group } } }));
    }
    if (seconds > 1800) throw new Error(`the group ${group} has not finished after 30 minutes`);
    await sleep(t.pollMs);
  }
}

function writeChart(name: string, samples: Sample[], title: string): void {
  const last = samples.at(-1)?.counts ?? {};
  const subtitle = `${STATUSES.filter((s) => last[s])
    .map((s) => `${s} ${last[s]}`)
    .join(", ")} · ${samples.length} samples over ${(samples.at(-1)?.t ?? 0).toFixed(0)} s · ${target?.describe.split(" (")[0]}`;
  writeFileSync(join(outDir, `${name}.svg`), statusChart(samples, title, subtitle));
  writeFileSync(join(outDir, `${name}.csv`), samplesCsv(samples));
  say(`chart: ${rel(join(outDir, `${name}.svg`))} (${samples.length} samples; data in ${name}.csv)`);
}

async function cleanUp(): Promise<void> {
  if (target?.admin) await target.admin.setSpeed(1).catch(() => {});
  await target?.stop();
  if (dockerConfig) rmSync(dockerConfig, { recursive: true, force: true });
  // The registry's references in the local engine (the pushed tag, the digests jobs pulled): the registry is gone.
  if (registryHost && target?.kind === "emulator") {
    const refs = await run("docker", ["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"], {
      allowFailure: true,
      display: false,
    });
    const names = refs.stdout
      .split("\n")
      .filter((line) => line.startsWith(`${registryHost}/`))
      .map((line) => {
        const [repo, tag, digest] = line.split(" ");
        return tag && tag !== "<none>" ? `${repo}:${tag}` : `${repo}@${digest}`;
      });
    if (names.length > 0) await run("docker", ["rmi", ...new Set(names)], { allowFailure: true, display: false });
  }
}
