// The simulated executor: no containers. Each attempt's outcome and timing are drawn from a profile with a PRNG
// seeded by (profile seed, job id, attempt), so the same submission gives the same results in any order and at
// any scale. Time is the emulator's clock, so a faster clock makes simulated jobs finish sooner.
import { z } from "zod";
import type { Clock } from "../clock.js";
import { seededRandom } from "../random.js";
import type { Executor, ExecutorEvents, JobLaunch, JobOutcome } from "./executor.js";

export const simulationProfileSchema = z.object({
  seed: z.number().int().default(1),
  /** Share of attempts that exit 0 (of those not drawn as timeout or out-of-memory). */
  successRatio: z.number().min(0).max(1).default(1),
  /** Exit codes of failing attempts, drawn uniformly. */
  failureExitCodes: z.array(z.number().int().min(1).max(255)).min(1).default([1]),
  /** Share of attempts that run past their `execTimeoutSeconds`. */
  timeoutRatio: z.number().min(0).max(1).default(0),
  /** Share of attempts killed for using too much memory. */
  oomRatio: z.number().min(0).max(1).default(0),
  /** From STARTING to RUNNING, in milliseconds (uniform). */
  startDelayMs: z.tuple([z.number().min(0), z.number().min(0)]).default([100, 500]),
  /** Run time of an attempt, in milliseconds. */
  duration: z
    .object({
      distribution: z.enum(["fixed", "uniform", "exponential"]).default("uniform"),
      minMs: z.number().min(0).default(1000),
      maxMs: z.number().min(0).default(5000),
      /** Mean of the exponential distribution (added to minMs). */
      meanMs: z.number().min(0).default(2000),
    })
    .default({ distribution: "uniform", minMs: 1000, maxMs: 5000, meanMs: 2000 }),
  /** Output lines per attempt. */
  logLines: z.number().int().min(0).max(1000).default(2),
  /** vCPUs the simulated cloud offers at once. */
  capacityVcpus: z.number().int().min(1).default(100_000),
});

export type SimulationProfile = z.input<typeof simulationProfileSchema>;

interface Plan {
  seq: number;
  jobId: string;
  runningAt: number;
  endAt: number;
  outcome: JobOutcome;
  lines: string[];
}

type Due = { at: number; seq: number; phase: "running" | "end" };

/** A binary min-heap of due events, ordered by time then job. */
class DueHeap {
  private readonly items: Due[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: Due): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  peek(): Due | undefined {
    return this.items[0];
  }

  pop(): Due | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Due, y: Due): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export class SimulatedExecutor implements Executor {
  readonly name = "simulated" as const;
  readonly capacityVcpus: number;
  private readonly profile: z.output<typeof simulationProfileSchema>;
  private readonly plans = new Map<number, Plan>();
  private readonly heap = new DueHeap();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly events: ExecutorEvents,
    private readonly clock: Clock,
    profile: SimulationProfile = {},
  ) {
    this.profile = simulationProfileSchema.parse(profile);
    this.capacityVcpus = this.profile.capacityVcpus;
    this.timer = setInterval(() => this.advance(), 20);
    this.timer.unref();
  }

  /** Draws the attempt's fate; the same job and attempt always draw the same. */
  plan(job: Pick<JobLaunch, "seq" | "jobId" | "attempt" | "execTimeoutSeconds">, startAt: number): Plan {
    const p = this.profile;
    const random = seededRandom(`${p.seed}|${job.jobId}|${job.attempt}`);
    const [lo, hi] = p.startDelayMs;
    const runningAt = startAt + Math.round(lo + random() * Math.max(0, hi - lo));
    const d = p.duration;
    const drawn =
      d.distribution === "fixed"
        ? d.minMs
        : d.distribution === "uniform"
          ? d.minMs + random() * Math.max(0, d.maxMs - d.minMs)
          : d.minMs - Math.log(1 - random()) * d.meanMs;
    const r = random();
    let outcome: JobOutcome;
    let duration = Math.round(drawn);
    const timeoutMs = job.execTimeoutSeconds * 1000;
    if (r < p.timeoutRatio || duration >= timeoutMs) {
      outcome = { kind: "timeout", exitCode: 137 };
      duration = timeoutMs;
    } else if (r < p.timeoutRatio + p.oomRatio) {
      outcome = { kind: "exited", exitCode: 137, oomKilled: true };
    } else if (random() < p.successRatio) {
      outcome = { kind: "exited", exitCode: 0, oomKilled: false };
    } else {
      const code = p.failureExitCodes[Math.floor(random() * p.failureExitCodes.length)]!;
      outcome = { kind: "exited", exitCode: code, oomKilled: false };
    }
    const lines: string[] = [];
    for (let i = 0; i < p.logLines; i++) {
      lines.push(
        i === p.logLines - 1
          ? `simulated job ${job.jobId} attempt ${job.attempt} ended: ${describe(outcome)}`
          : `simulated job ${job.jobId} attempt ${job.attempt} working (${i + 1}/${p.logLines - 1})`,
      );
    }
    return { seq: job.seq, jobId: job.jobId, runningAt, endAt: runningAt + duration, outcome, lines };
  }

  start(job: JobLaunch): void {
    if (this.closed) return;
    const plan = this.plan(job, this.clock.now());
    this.plans.set(job.seq, plan);
    this.heap.push({ at: plan.runningAt, seq: job.seq, phase: "running" });
  }

  cancel(seq: number): void {
    const plan = this.plans.get(seq);
    if (!plan) return;
    this.plans.delete(seq);
    this.events.finished(seq, { kind: "cancelled", exitCode: this.clock.now() >= plan.runningAt ? 143 : null }, this.clock.now());
  }

  /** After a restart the simulation simply runs the interrupted attempts again from now. */
  async recover(jobs: JobLaunch[]): Promise<void> {
    for (const job of jobs) this.start(job);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.plans.clear();
  }

  /** Emits every event whose time has come. */
  advance(): void {
    const now = this.clock.now();
    for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      const plan = this.plans.get(top.seq);
      if (!plan) continue; // cancelled
      if (top.phase === "running") {
        this.events.running(plan.seq, { instanceId: `sim-${plan.seq.toString(16)}`, at: plan.runningAt });
        this.heap.push({ at: plan.endAt, seq: plan.seq, phase: "end" });
        continue;
      }
      this.plans.delete(plan.seq);
      if (plan.lines.length) {
        const step = Math.max(1, Math.floor((plan.endAt - plan.runningAt) / plan.lines.length));
        this.events.log(
          plan.seq,
          plan.lines.map((message, i) => ({ at: plan.runningAt + i * step, stream: "stdout" as const, message })),
        );
      }
      this.events.finished(plan.seq, plan.outcome, plan.endAt);
    }
  }
}

function describe(outcome: JobOutcome): string {
  switch (outcome.kind) {
    case "exited":
      return outcome.oomKilled ? "killed for using too much memory" : `exit code ${outcome.exitCode}`;
    case "timeout":
      return "timed out";
    default:
      return outcome.kind;
  }
}
