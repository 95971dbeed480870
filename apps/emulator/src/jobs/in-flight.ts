// Attempts the executor is starting or running, and the share of its capacity they take. A job never counts
// for more than the whole executor, so one bigger than the executor still runs (alone).
import type { Run } from "./queues.js";

export interface Attempt {
  /** The job, as a run of one. */
  run: Run;
  /** vCPUs counted against the executor's capacity. */
  slot: number;
  memoryMiB: number;
  execTimeoutSeconds: number;
  cancelRequested: boolean;
  /** Time of the job's last stored output line; undefined until known (read lazily for retries and recoveries). */
  lastLogAt: number | undefined;
}

export class InFlight {
  private readonly attempts = new Map<number, Attempt>();
  private used = 0;

  /** `capacity` is the executor's (read on each use: the executor is attached after the scheduler is built). */
  constructor(private readonly capacity: () => number) {}

  /** Whether a job of `vcpus` fits in the executor's free capacity. */
  fits(vcpus: number): boolean {
    return this.used + this.slotOf(vcpus) <= this.capacity();
  }

  private slotOf(vcpus: number): number {
    return Math.min(vcpus, this.capacity());
  }

  add(run: Run, memoryMiB: number, execTimeoutSeconds: number, lastLogAt: number | undefined): Attempt {
    const attempt: Attempt = { run, slot: this.slotOf(run.vcpus), memoryMiB, execTimeoutSeconds, cancelRequested: false, lastLogAt };
    this.used += attempt.slot;
    this.attempts.set(run.from, attempt);
    return attempt;
  }

  get(seq: number): Attempt | undefined {
    return this.attempts.get(seq);
  }

  /** Forgets an attempt and frees its share of the capacity. */
  remove(seq: number): Attempt | undefined {
    const attempt = this.attempts.get(seq);
    if (!attempt) return undefined;
    this.attempts.delete(seq);
    this.used -= attempt.slot;
    return attempt;
  }

  get size(): number {
    return this.attempts.size;
  }

  entries(): IterableIterator<[number, Attempt]> {
    return this.attempts.entries();
  }
}
