// Job faults: a decorator around the real executor (Docker or simulated) that asks the fault rules, for every
// attempt it starts, whether to spoil it. The scheduler and the executor stay unaware of faults: the decorator
// sits between them and rewrites what the executor reports.
//
//   exitCode, timeout, outOfMemory, vanish  the attempt starts for real; `afterSeconds` (emulator clock) after it
//                                           is RUNNING it is stopped and ends with the fault's outcome (one that
//                                           ends on its own earlier gets the fault's outcome then). With Docker,
//                                           `vanish` force-removes the container, and the executor finds it gone.
//   imagePullFailure                        ends in STARTING with a CannotPullContainerError; with Docker the
//                                           container is really attempted from an image that cannot be had.
//   stuck (STARTING, RUNNING)               the attempt is held: not started (RUNNING is reported for it in the
//                                           RUNNING case), its statusReason set, until the rule is removed or
//                                           `forSeconds` passed; then it starts for real. (RUNNABLE is held by
//                                           the scheduler, see FaultService.holdRunnable.)
// A cancellation always wins over a fault.
import type { Clock } from "../clock.js";
import type { Executor, ExecutorEvents, JobLaunch, JobOutcome } from "../jobs/executor.js";
import { DEFAULT_STUCK_REASONS, type JobFault } from "./rules.js";

/** A fault rule's verdict on one attempt. */
export interface JobFaultHit {
  ruleId: string;
  fault: JobFault;
}

/** What the decorator needs from the fault rules (implemented by FaultService). */
export interface JobFaultSource {
  /** Decides (and records) the fault of an attempt about to start, if any. */
  decideStart(seq: number): JobFaultHit | undefined;
  /** Sets the statusReason of a job held in STARTING or RUNNING. */
  markStuck(seq: number, reason: string): void;
  /** Clears it again, if it is still the one set. */
  unmarkStuck(seq: number, reason: string): void;
  /** A line for the emulator's log. */
  note(line: string): void;
}

interface Tracked {
  hit: JobFaultHit;
  launch: JobLaunch;
  /** held: not started (stuck); armed: running in the inner executor, strike pending; striking: being stopped;
   * pulling: started from an image that cannot be had. */
  phase: "held" | "armed" | "striking" | "pulling";
  /** Held jobs: the status they are held in, the reason shown, and when they are released on their own. */
  heldIn?: "STARTING" | "RUNNING";
  reason?: string;
  until?: number | undefined;
  /** Armed jobs: reported RUNNING by the inner executor (with this instance), and when the fault strikes. */
  ran?: boolean;
  instanceId?: string;
  strikeAt?: number;
  cancelled?: boolean;
}

/** The outcome a fault gives an attempt that ran. */
export function outcomeOfFault(fault: JobFault): JobOutcome {
  switch (fault.kind) {
    case "exitCode":
      return { kind: "exited", exitCode: fault.exitCode ?? 1, oomKilled: false };
    case "timeout":
      return { kind: "timeout", exitCode: 137 };
    case "outOfMemory":
      return { kind: "exited", exitCode: 137, oomKilled: true };
    case "vanish":
      return { kind: "vanished", reason: "the container was removed while the job ran" };
    case "imagePullFailure":
      return { kind: "start-failed", reason: "CannotPullContainerError: the image could not be pulled" };
    case "stuck":
      throw new Error("a stuck job has no outcome of its own");
  }
}

function pullFailure(launch: JobLaunch): JobOutcome {
  return {
    kind: "start-failed",
    reason:
      `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ` + `${launch.imageName}: not found`,
  };
}

/** An image reference that no engine has and that names no registry: pulling it fails at once, offline. */
const UNPULLABLE_IMAGE = "htcemu-fault/image-pull-failure:injected";

export class FaultyExecutor implements Executor {
  readonly inner: Executor;
  private readonly jobs = new Map<number, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private docker: Promise<{ getContainer(id: string): { remove(options: { force: boolean }): Promise<unknown> } }> | undefined;

  constructor(
    private readonly source: JobFaultSource,
    private readonly out: ExecutorEvents,
    private readonly clock: Clock,
    make: (events: ExecutorEvents) => Executor,
  ) {
    this.inner = make({
      running: (seq, info) => this.onRunning(seq, info),
      log: (seq, lines) => this.out.log(seq, lines),
      finished: (seq, outcome, at) => this.onFinished(seq, outcome, at),
    });
  }

  get name(): Executor["name"] {
    return this.inner.name;
  }

  get capacityVcpus(): number {
    return this.inner.capacityVcpus;
  }

  start(launch: JobLaunch): void {
    if (this.closed) return;
    const seq = launch.seq;
    this.jobs.delete(seq);
    const hit = this.source.decideStart(seq);
    if (!hit) {
      this.inner.start(launch);
      return;
    }
    const { fault } = hit;
    const now = this.clock.now();
    if (fault.kind === "stuck") {
      const heldIn = fault.status === "RUNNING" ? "RUNNING" : "STARTING";
      const reason = fault.statusReason ?? DEFAULT_STUCK_REASONS[heldIn];
      this.jobs.set(seq, {
        hit,
        launch,
        phase: "held",
        heldIn,
        reason,
        until: fault.forSeconds === undefined ? undefined : now + fault.forSeconds * 1000,
      });
      this.source.markStuck(seq, reason);
      if (heldIn === "RUNNING") this.out.running(seq, { instanceId: `stuck-${seq.toString(16)}`, at: now });
      this.ensureTimer();
      return;
    }
    if (fault.kind === "imagePullFailure") {
      if (this.inner.name === "docker") {
        this.jobs.set(seq, { hit, launch, phase: "pulling" });
        const { imageAuth: _credentials, ...rest } = launch;
        this.inner.start({ ...rest, image: UNPULLABLE_IMAGE });
      } else {
        this.out.finished(seq, pullFailure(launch), now);
      }
      return;
    }
    this.jobs.set(seq, { hit, launch, phase: "armed" });
    this.inner.start(launch);
  }

  cancel(seq: number): void {
    const job = this.jobs.get(seq);
    if (job?.phase === "held") {
      this.jobs.delete(seq);
      this.out.finished(seq, { kind: "cancelled", exitCode: job.heldIn === "RUNNING" ? 143 : null }, this.clock.now());
      return;
    }
    if (job) job.cancelled = true;
    this.inner.cancel(seq);
  }

  recover(jobs: JobLaunch[], options?: { lastLogAt?(seq: number): number | undefined }): Promise<void> {
    // Faults are not applied again after a restart: the attempts continue (or are reported) as they are.
    return this.inner.recover(jobs, options);
  }

  async close(mode: "detach" | "stop"): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.jobs.clear();
    await this.inner.close(mode);
  }

  /** Starts the held jobs of one rule (or of every rule) for real; returns how many. */
  release(ruleId?: string): number {
    let n = 0;
    for (const [seq, job] of this.jobs) {
      if (job.phase !== "held" || (ruleId !== undefined && job.hit.ruleId !== ruleId)) continue;
      this.releaseOne(seq, job);
      n++;
    }
    return n;
  }

  /** Jobs a rule holds in STARTING or RUNNING right now. */
  heldBy(ruleId: string): number {
    let n = 0;
    for (const job of this.jobs.values()) if (job.phase === "held" && job.hit.ruleId === ruleId) n++;
    return n;
  }

  private releaseOne(seq: number, job: Tracked): void {
    this.jobs.delete(seq);
    if (job.reason) this.source.unmarkStuck(seq, job.reason);
    this.inner.start(job.launch);
  }

  private onRunning(seq: number, info: { instanceId: string; at: number }): void {
    const job = this.jobs.get(seq);
    if (job?.phase === "armed") {
      job.ran = true;
      job.instanceId = info.instanceId;
      job.strikeAt = info.at + (job.hit.fault.afterSeconds ?? 0) * 1000;
      this.ensureTimer();
    }
    this.out.running(seq, info);
  }

  private onFinished(seq: number, outcome: JobOutcome, at: number): void {
    this.out.finished(seq, this.rewrite(seq, outcome), at);
  }

  /** What the scheduler hears of an attempt's end. */
  private rewrite(seq: number, outcome: JobOutcome): JobOutcome {
    const job = this.jobs.get(seq);
    if (!job || job.phase === "held") return outcome;
    this.jobs.delete(seq);
    // A cancellation wins over the fault.
    if (job.cancelled) return outcome;
    if (job.phase === "pulling") return outcome.kind === "start-failed" ? pullFailure(job.launch) : outcome;
    // An attempt that never ran (its image was missing, say) keeps its own outcome.
    if (!job.ran) return outcome;
    // A real vanish (Docker found its container gone) is reported in the executor's own words.
    if (job.hit.fault.kind === "vanish" && outcome.kind === "vanished") return outcome;
    return outcomeOfFault(job.hit.fault);
  }

  private ensureTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), 25);
    this.timer.unref();
  }

  private tick(): void {
    const now = this.clock.now();
    let pending = false;
    for (const [seq, job] of this.jobs) {
      if (job.phase === "armed" && job.strikeAt !== undefined) {
        if (job.strikeAt <= now) this.strike(seq, job);
        else pending = true;
      } else if (job.phase === "held" && job.until !== undefined) {
        if (job.until <= now) this.releaseOne(seq, job);
        else pending = true;
      }
    }
    if (!pending && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private strike(seq: number, job: Tracked): void {
    job.phase = "striking";
    if (job.hit.fault.kind === "vanish" && this.inner.name === "docker" && job.instanceId) {
      // Behind the executor's back, as when someone removes the container: the executor finds it gone.
      const instanceId = job.instanceId;
      this.dockerClient()
        .then((docker) => docker.getContainer(instanceId).remove({ force: true }))
        .catch((error: Error) => {
          this.source.note(`fault ${job.hit.ruleId}: could not remove container ${instanceId} (${error.message}); stopping it instead`);
          this.inner.cancel(seq);
        });
      return;
    }
    this.inner.cancel(seq);
  }

  private dockerClient() {
    this.docker ??= import("../jobs/docker-engine.js").then(({ defaultDocker }) => defaultDocker());
    return this.docker;
  }
}
