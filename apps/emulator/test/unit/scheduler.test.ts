// The scheduler on an in-memory database with a fake executor: admission under project and workspace vCPU
// caps, dispatch order (on-demand before economy, round-robin over tasks), executor reports, retries,
// cancellation and recovery after a restart.
import { afterEach, describe, expect, it } from "vitest";
import { setLimit, updateLimit } from "../../src/domain/limits.js";
import { JobStatus } from "../../src/jobs/status.js";
import { type JobSide, jobSide, request } from "./harness.js";

let side: JobSide;

afterEach(async () => {
  await side?.close();
});

const exit = (exitCode: number) => ({ kind: "exited" as const, exitCode, oomKilled: false });

describe("admission", () => {
  it("admits within the project's vCPU limit, and more as admitted jobs end", async () => {
    side = await jobSide();
    const project = side.project();
    setLimit(side.s, side.principal, project, "PROJECT_ADMIN", 4);
    const task = side.task(project);
    const [seqs] = await side.submit(project, task, [request({ batchSize: 5, vcpus: 2 })]);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["STARTING", "STARTING", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
    // Admitted jobs went through SUBMITTED_TO_PROVIDER (its time is recorded) to RUNNABLE.
    const first = side.s.repos.jobs.job(seqs![0]!)!;
    expect(first.provider_at).not.toBeNull();
    expect(first.runnable_at).not.toBeNull();

    side.executor.finish(seqs![0]!);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["SUCCEEDED", "STARTING", "STARTING", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
  });

  it("holds the smallest of a project's limits", async () => {
    side = await jobSide();
    const project = side.project();
    setLimit(side.s, side.principal, project, "PROJECT_ADMIN", 5);
    setLimit(side.s, side.principal, project, "WORKSPACE_ADMIN", 2);
    const [seqs] = await side.submit(project, side.task(project), [request({ batchSize: 4 })]);
    await side.tick();
    expect(side.statuses(seqs!).filter((s) => s === "STARTING")).toHaveLength(2);
  });

  it("caps a workspace across all its projects", async () => {
    side = await jobSide({ workspaceVcpuLimit: 3 });
    const a = side.project();
    const b = side.project();
    setLimit(side.s, side.principal, a, "PROJECT_ADMIN", 10);
    const [inA] = await side.submit(a, side.task(a), [request({ batchSize: 3 })]);
    const [inB] = await side.submit(b, side.task(b), [request({ batchSize: 3 })]);
    await side.tick();
    const admitted = side.statuses([...inA!, ...inB!]).filter((s) => s === "STARTING");
    expect(admitted).toHaveLength(3);
  });

  it("reads limits again on each pass: a limit of 0 holds jobs until it is raised", async () => {
    side = await jobSide();
    const project = side.project();
    const limit = setLimit(side.s, side.principal, project, "PROJECT_ADMIN", 0);
    const [seqs] = await side.submit(project, side.task(project), [request({ batchSize: 3 })]);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
    updateLimit(side.s, side.principal, project, limit.id, 2);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["STARTING", "STARTING", "SUBMITTED_TO_RESCALE"]);
  });

  it("lets a task whose project is full not block the tasks of other projects", async () => {
    side = await jobSide();
    const full = side.project();
    setLimit(side.s, side.principal, full, "PROJECT_ADMIN", 0);
    const free = side.project();
    const [held] = await side.submit(full, side.task(full), [request({ batchSize: 2 })]);
    const [runs] = await side.submit(free, side.task(free), [request({ batchSize: 2 })]);
    await side.tick();
    expect(side.statuses(held!)).toEqual(["SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
    expect(side.statuses(runs!)).toEqual(["STARTING", "STARTING"]);
  });
});

describe("dispatch", () => {
  it("starts on-demand jobs before economy jobs", async () => {
    side = await jobSide({ capacityVcpus: 1 });
    const project = side.project();
    const task = side.task(project);
    const [economy, onDemand] = await side.submit(project, task, [
      request({ batchSize: 2, priority: "ON_DEMAND_ECONOMY" }),
      request({ batchSize: 2, priority: "ON_DEMAND_PRIORITY" }),
    ]);
    await side.tick();
    for (let i = 0; i < 4; i++) {
      const seq = side.executor.startedSeqs.at(-1)!;
      side.executor.finish(seq);
      await side.tick();
    }
    expect(side.executor.startedSeqs).toEqual([...onDemand!, ...economy!]);
  });

  it("serves tasks round-robin, so one big task does not starve the others", async () => {
    side = await jobSide();
    const project = side.project();
    const big = side.task(project, "big");
    const small = side.task(project, "small");
    const [a] = await side.submit(project, big, [request({ batchSize: 3 })]);
    const [b] = await side.submit(project, small, [request({ batchSize: 2 })]);
    await side.tick();
    expect(side.executor.startedSeqs).toEqual([a![0], b![0], a![1], b![1], a![2]]);
  });

  it("runs no more vCPUs than the executor has, and a job bigger than the executor alone", async () => {
    side = await jobSide({ capacityVcpus: 4 });
    const project = side.project();
    const task = side.task(project);
    const [small, huge] = await side.submit(project, task, [request({ batchSize: 3, vcpus: 2 }), request({ batchSize: 1, vcpus: 8 })]);
    await side.tick();
    expect(side.executor.startedSeqs).toEqual(small!.slice(0, 2));
    for (const seq of small!.slice(0, 2)) side.executor.finish(seq);
    await side.tick();
    expect(side.executor.startedSeqs).toEqual([...small!.slice(0, 2), small![2]]);
    side.executor.finish(small![2]!);
    await side.tick();
    expect(side.executor.startedSeqs.at(-1)).toBe(huge![0]);
    expect(side.jobs.scheduler.state.executing).toBe(1);
  });
});

describe("executor reports", () => {
  it("records RUNNING, output lines with strictly increasing times, and the outcome", async () => {
    side = await jobSide();
    const project = side.project();
    const [[seq]] = (await side.submit(project, side.task(project), [request()])) as [[number]];
    await side.tick();
    const launch = side.executor.started[0]!;
    expect(launch).toMatchObject({ seq, attempt: 1, imageName: "htcemu/shell:1", vcpus: 1 });
    side.executor.running(seq, 1_000);
    side.executor.events.log(seq, [
      { at: 2_000, stream: "stdout", message: "one" },
      { at: 2_000, stream: "stderr", message: "two" },
      { at: 1_500, stream: "stdout", message: "three" },
    ]);
    await side.tick();
    expect(side.s.repos.jobs.job(seq)).toMatchObject({ status: JobStatus.RUNNING, instance_id: `fake-${seq}`, running_at: 1_000 });
    side.executor.events.log(seq, [{ at: 1_000, stream: "stdout", message: "four" }]);
    side.executor.finish(seq, exit(3), 3_000);
    await side.tick();
    expect(side.s.repos.jobs.logs(seq, "asc", undefined, 10)).toEqual([
      { at: 2_000, stream: 1, message: "one" },
      { at: 2_001, stream: 2, message: "two" },
      { at: 2_002, stream: 1, message: "three" },
      { at: 2_003, stream: 1, message: "four" },
    ]);
    expect(side.s.repos.jobs.job(seq)).toMatchObject({
      status: JobStatus.FAILED,
      failure_code: "ErrorNonZeroContainerExitCode",
      exit_code: 3,
      ended_at: 3_000,
    });
    expect(side.s.counters.of(side.principal.workspace.id).get('htc_jobs_finished_total{status="FAILED"}')).toBe(1);
  });

  it("retries a failed attempt at once, keeps the failed one, and ends the job when no retry is left", async () => {
    side = await jobSide();
    const project = side.project();
    setLimit(side.s, side.principal, project, "PROJECT_ADMIN", 1);
    const task = side.task(project);
    const [[seq], [other]] = (await side.submit(project, task, [request({ retryStrategy: { maxRetries: 1 } }), request()])) as [
      [number],
      [number],
    ];
    await side.tick();
    side.executor.running(seq);
    side.executor.finish(seq, { kind: "start-failed", reason: "no image" });
    await side.tick();
    // The retry keeps the job's vCPUs: it starts again before the other job is admitted.
    expect(side.executor.started.map((l) => [l.seq, l.attempt])).toEqual([
      [seq, 1],
      [seq, 2],
    ]);
    expect(side.statuses([seq, other])).toEqual(["STARTING", "SUBMITTED_TO_RESCALE"]);
    expect(side.s.repos.jobs.attempts(seq)).toMatchObject([{ attempt: 1, failure_code: "ErrorStartingContainer", reason: "no image" }]);
    side.executor.finish(seq, exit(1));
    await side.tick();
    expect(side.s.repos.jobs.job(seq)).toMatchObject({
      status: JobStatus.FAILED,
      attempt: 2,
      failure_code: "ErrorNonZeroContainerExitCode",
    });
    expect(side.statuses([other])).toEqual(["STARTING"]);
  });

  it("does not retry a cancelled attempt, whatever its process did", async () => {
    side = await jobSide();
    const project = side.project();
    const task = side.task(project);
    const [[seq]] = (await side.submit(project, task, [request({ retryStrategy: { maxRetries: 3 } })])) as [[number]];
    await side.tick();
    side.jobs.cancel(task, { seqs: [seq] });
    expect(side.executor.cancelled).toEqual([seq]);
    side.executor.finish(seq, exit(137));
    await side.tick();
    expect(side.s.repos.jobs.job(seq)).toMatchObject({ status: JobStatus.FAILED, cancelled: 1, reason: "Cancelled by user", attempt: 1 });
  });
});

describe("cancel", () => {
  it("fails queued jobs at once, gives their vCPUs back, and leaves running ones to the executor", async () => {
    side = await jobSide();
    const project = side.project();
    setLimit(side.s, side.principal, project, "PROJECT_ADMIN", 2);
    const task = side.task(project);
    const [seqs] = await side.submit(project, task, [request({ batchSize: 4 })]);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["STARTING", "STARTING", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
    side.jobs.cancel(task, { seqs: [seqs![1]!, seqs![2]!] });
    expect(side.statuses(seqs!)).toEqual(["STARTING", "STARTING", "FAILED", "SUBMITTED_TO_RESCALE"]);
    expect(side.executor.cancelled).toEqual([seqs![1]]);
    side.executor.finish(seqs![1]!, { kind: "cancelled", exitCode: null });
    await side.tick();
    // The stopped job's vCPUs went back: the last job is admitted.
    expect(side.statuses(seqs!)).toEqual(["STARTING", "FAILED", "FAILED", "STARTING"]);
    expect(side.s.repos.jobs.countsOfTask(task.seq)).toEqual([0, 0, 0, 2, 0, 0, 2]);
  });

  it("of a whole task drops its queues", async () => {
    side = await jobSide({ capacityVcpus: 1 });
    const project = side.project();
    const task = side.task(project);
    const [seqs] = await side.submit(project, task, [request({ batchSize: 3 })]);
    await side.tick();
    side.jobs.cancel(task, {});
    side.executor.finish(seqs![0]!, { kind: "cancelled", exitCode: 143 });
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["FAILED", "FAILED", "FAILED"]);
    expect(side.executor.startedSeqs).toEqual([seqs![0]]);
    expect(side.jobs.unfinished(task)).toBe(0);
  });
});

describe("recovery after a restart", () => {
  it("rebuilds queues and vCPU usage and hands attempts in flight back to the executor", async () => {
    side = await jobSide();
    const project = side.project();
    setLimit(side.s, side.principal, project, "PROJECT_ADMIN", 2);
    const task = side.task(project);
    const [seqs] = await side.submit(project, task, [request({ batchSize: 4 })]);
    await side.tick();
    side.executor.running(seqs![0]!);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["RUNNING", "STARTING", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);

    await side.restart();
    expect(side.executor.recovered.map((l) => l.seq)).toEqual(seqs!.slice(0, 2));
    await side.tick();
    // The recovered attempts still hold the project's 2 vCPUs.
    expect(side.statuses(seqs!)).toEqual(["RUNNING", "STARTING", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
    side.executor.finish(seqs![0]!);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["SUCCEEDED", "STARTING", "STARTING", "SUBMITTED_TO_RESCALE"]);
    expect(side.executor.startedSeqs).toEqual([seqs![2]]);
  });

  it("makes jobs a step left in SUBMITTED_TO_PROVIDER RUNNABLE, ahead of those still to admit", async () => {
    side = await jobSide({ capacityVcpus: 1 });
    const project = side.project();
    const task = side.task(project);
    const [seqs] = await side.submit(project, task, [request({ batchSize: 3 })]);
    side.jobs.scheduler.pause();
    const limits = { memoryMiB: 100, execTimeoutSeconds: 60 };
    expect(side.jobs.scheduler.controls.step(seqs![2]!, exit(0), limits)).toEqual({ status: JobStatus.SUBMITTED_TO_PROVIDER });
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_PROVIDER"]);

    await side.restart();
    expect(side.statuses(seqs!)).toEqual(["SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE", "RUNNABLE"]);
    for (let i = 0; i < 3; i++) {
      await side.tick();
      side.executor.finish(side.executor.startedSeqs.at(-1)!);
    }
    await side.tick();
    expect(side.executor.startedSeqs).toEqual([seqs![2], seqs![0], seqs![1]]);
    expect(side.statuses(seqs!)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
  });
});
