// The scheduler's test controls without a server: stepping a job through every status, holding RUNNABLE jobs
// (through a real fault rule) and releasing them, suspending, and discarding jobs whose rows go away, with the
// discard's time limit run on fake timers.
import { afterEach, describe, expect, it, vi } from "vitest";
import { setLimit } from "../../src/domain/limits.js";
import { JobStatus } from "../../src/jobs/status.js";
import { type JobSide, jobSide, request, settle } from "./harness.js";

let side: JobSide;

afterEach(async () => {
  vi.useRealTimers();
  await side?.close();
});

const limits = { memoryMiB: 256, execTimeoutSeconds: 60 };
const exit = (exitCode: number) => ({ kind: "exited" as const, exitCode, oomKilled: false });

describe("step", () => {
  it("moves a job through every status, stamped with the clock, without the executor", async () => {
    side = await jobSide();
    const project = side.project();
    setLimit(side.s, side.principal, project, "PROJECT_ADMIN", 1);
    const [[seq, other]] = (await side.submit(project, side.task(project), [request({ batchSize: 2 })])) as [[number, number]];
    const scheduler = side.jobs.scheduler;
    scheduler.pause();
    const seen: number[] = [];
    for (;;) {
      const moved = scheduler.controls.step(seq, exit(0), limits);
      if ("refused" in moved) {
        expect(moved.refused).toBe("the job has finished");
        break;
      }
      seen.push(moved.status);
    }
    expect(seen).toEqual([JobStatus.SUBMITTED_TO_PROVIDER, JobStatus.RUNNABLE, JobStatus.STARTING, JobStatus.RUNNING, JobStatus.SUCCEEDED]);
    const job = side.s.repos.jobs.job(seq)!;
    for (const at of [job.provider_at, job.runnable_at, job.starting_at, job.running_at, job.ended_at]) expect(at).not.toBeNull();
    expect(job.instance_id).toBe(`step-${seq.toString(16)}`);
    expect(side.executor.started).toEqual([]);
    // The stepped job gave its vCPU back when it ended: the other one is admitted once resumed.
    scheduler.resume();
    await side.tick();
    expect(side.statuses([other])).toEqual(["STARTING"]);
  });

  it("ends a stepped job with the given outcome; a retryable failure goes back to RUNNABLE", async () => {
    side = await jobSide();
    const project = side.project();
    const [[seq]] = (await side.submit(project, side.task(project), [request({ retryStrategy: { maxRetries: 1 } })])) as [[number]];
    const { controls } = side.jobs.scheduler;
    side.jobs.scheduler.pause();
    for (let i = 0; i < 4; i++) controls.step(seq, exit(2), limits);
    expect(controls.step(seq, exit(2), limits)).toEqual({ status: JobStatus.RUNNABLE });
    expect(side.s.repos.jobs.attempts(seq)).toMatchObject([{ attempt: 1, exit_code: 2 }]);
  });

  it("refuses a job the executor runs, and hands stepped jobs to the executor on resume", async () => {
    side = await jobSide();
    const project = side.project();
    const [[running, stepped]] = (await side.submit(project, side.task(project), [request({ batchSize: 2 })])) as [[number, number]];
    const scheduler = side.jobs.scheduler;
    scheduler.pause();
    side.jobs.scheduler.controls.step(stepped, exit(0), limits); // SUBMITTED_TO_PROVIDER
    scheduler.resume();
    await side.tick();
    // Handed back on resume, the stepped job was RUNNABLE before the other one was admitted.
    expect(side.executor.startedSeqs).toEqual([stepped, running]);
    scheduler.pause();
    expect(scheduler.controls.step(running, exit(0), limits)).toEqual({
      refused: "the executor is starting it (it was dispatched before the pause)",
    });

    const [[late]] = (await side.submit(project, side.task(project, "late"), [request()])) as [[number]];
    scheduler.controls.step(late, exit(0), limits);
    scheduler.controls.step(late, exit(0), limits);
    expect(scheduler.controls.step(late, exit(0), limits)).toEqual({ status: JobStatus.STARTING });
    expect(scheduler.state).toMatchObject({ paused: true, stepped: 1 });
    scheduler.resume();
    await settle();
    expect(side.executor.startedSeqs).toEqual([stepped, running, late]);
    expect(side.executor.started.at(-1)).toMatchObject({ seq: late, attempt: 1 });
  });

  it("ends a stepped job at once when it is cancelled", async () => {
    side = await jobSide();
    const project = side.project();
    const task = side.task(project);
    const [[seq]] = (await side.submit(project, task, [request()])) as [[number]];
    side.jobs.scheduler.pause();
    for (let i = 0; i < 3; i++) side.jobs.scheduler.controls.step(seq, exit(0), limits);
    side.jobs.cancel(task, { seqs: [seq] });
    await side.tick();
    expect(side.s.repos.jobs.job(seq)).toMatchObject({ status: JobStatus.FAILED, cancelled: 1 });
    expect(side.executor.cancelled).toEqual([]);
  });
});

describe("hold and release", () => {
  it("keeps jobs a fault rule holds RUNNABLE and off the queues until the rule goes", async () => {
    side = await jobSide({ faults: true });
    const faults = side.faults!;
    const project = side.project();
    const [seqs] = await side.submit(project, side.task(project), [request({ batchSize: 3 })]);
    faults.add({
      id: "stuck",
      match: { jobIndexes: [0, 2] },
      probability: 1,
      seed: 0,
      skip: 0,
      times: null,
      job: { kind: "stuck", status: "RUNNABLE", statusReason: "no capacity" },
    });
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["RUNNABLE", "STARTING", "RUNNABLE"]);
    expect(side.s.repos.jobs.job(seqs![0]!)!.reason).toBe("no capacity");
    const { controls } = side.jobs.scheduler;
    expect([controls.heldTag(seqs![0]!), controls.heldTag(seqs![1]!)]).toEqual(["stuck", undefined]);
    expect(controls.state.held).toBe(2);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["RUNNABLE", "STARTING", "RUNNABLE"]);

    faults.remove("stuck");
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["STARTING", "STARTING", "STARTING"]);
    expect(side.s.repos.jobs.job(seqs![0]!)!.reason).toBeNull();
    faults.close();
  });

  it("releases the held jobs a predicate selects, first held first", async () => {
    side = await jobSide({ capacityVcpus: 1, faults: true });
    const faults = side.faults!;
    const project = side.project();
    const [seqs] = await side.submit(project, side.task(project), [request({ batchSize: 3 })]);
    // Three holds, then the rule is spent: released jobs are not held again.
    faults.add({ id: "three", match: {}, probability: 1, seed: 0, skip: 0, times: 3, job: { kind: "stuck", status: "RUNNABLE" } });
    await side.tick();
    const { controls } = side.jobs.scheduler;
    expect(controls.state.held).toBe(3);
    expect(controls.release((seq) => seq !== seqs![1])).toEqual([seqs![0], seqs![2]]);
    expect(controls.state.held).toBe(1);
    await side.tick();
    expect(side.executor.startedSeqs).toEqual([seqs![0]]);
    side.executor.finish(seqs![0]!);
    await side.tick();
    expect(side.executor.startedSeqs).toEqual([seqs![0], seqs![2]]);
    faults.close();
  });
});

describe("suspend and discard", () => {
  it("suspend stops admission and dispatch until every suspension ends", async () => {
    side = await jobSide();
    const project = side.project();
    const { controls } = side.jobs.scheduler;
    const first = controls.suspend();
    const second = controls.suspend();
    const [seqs] = await side.submit(project, side.task(project), [request({ batchSize: 2 })]);
    await side.tick();
    first();
    first();
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
    second();
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["STARTING", "STARTING"]);
  });

  it("discards one workspace's jobs: queues, usage and attempts, waiting for the executor's word", async () => {
    side = await jobSide();
    const mine = side.project();
    setLimit(side.s, side.principal, mine, "PROJECT_ADMIN", 1);
    const [seqs] = await side.submit(mine, side.task(mine), [request({ batchSize: 3 })]);
    await side.tick();
    expect(side.statuses(seqs!)).toEqual(["STARTING", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);

    let drained = false;
    const done = side.jobs.scheduler.controls.discard(side.principal.workspace.id).then(() => {
      drained = true;
    });
    expect(side.executor.cancelled).toEqual([seqs![0]]);
    expect(side.jobs.scheduler.state.executing).toBe(0);
    // Queued jobs are forgotten: nothing more is admitted, whatever the rows say.
    await side.tick();
    expect(drained).toBe(false);
    side.executor.finish(seqs![0]!, { kind: "cancelled", exitCode: 143 });
    await side.tick();
    await done;
    expect(drained).toBe(true);
    // The stopped attempt's report was dropped: its row was left alone (a reset would delete it).
    expect(side.statuses(seqs!)).toEqual(["STARTING", "SUBMITTED_TO_RESCALE", "SUBMITTED_TO_RESCALE"]);
    expect(side.executor.startedSeqs).toEqual([seqs![0]]);
  });

  it("gives up waiting for a discarded attempt after its time limit (fake timers)", async () => {
    const log: string[] = [];
    side = await jobSide({ log: (line) => log.push(line) });
    const project = side.project();
    const [[seq]] = (await side.submit(project, side.task(project), [request()])) as [[number]];
    await side.tick();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const scheduler = side.jobs.scheduler;
    let drained = false;
    const done = scheduler.controls.discard(undefined, 30_000).then(() => {
      drained = true;
    });
    expect(scheduler.controls.suspended).toBe(true);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(scheduler.controls.suspended).toBe(false);
    expect(log).toEqual(["1 discarded attempt(s) did not report their end within 30000 ms"]);
    expect(side.executor.cancelled).toEqual([seq]);
  });
});
