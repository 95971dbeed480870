// In-memory queues of the scheduler. Jobs of one batch have consecutive seqs, so a queue holds runs
// [from, to) instead of single jobs: a million queued jobs cost a few hundred objects. Runs may contain jobs
// that were cancelled meanwhile; the scheduler's conditional UPDATEs skip them.
import { Priority } from "./status.js";

export interface Run {
  taskSeq: number;
  batchSeq: number;
  from: number;
  /** Exclusive. */
  to: number;
  vcpus: number;
  priority: number;
  projectId: string;
  workspaceId: string;
}

/** Runs per task, served round-robin across tasks so one big task cannot starve the others. */
export class TaskQueues {
  private readonly byTask = new Map<number, Run[]>();
  private order: number[] = [];
  private cursor = 0;

  get isEmpty(): boolean {
    return this.byTask.size === 0;
  }

  push(run: Run): void {
    if (run.to <= run.from) return;
    const runs = this.byTask.get(run.taskSeq);
    if (runs) {
      const last = runs[runs.length - 1]!;
      // Extend the last run when the new one continues it (admission moves jobs in pieces).
      if (last.batchSeq === run.batchSeq && last.to === run.from) last.to = run.to;
      else runs.push(run);
    } else {
      this.byTask.set(run.taskSeq, [run]);
      this.order.push(run.taskSeq);
    }
  }

  /** Puts a single job (a retry) at the head of its task's queue. */
  pushFront(run: Run): void {
    const runs = this.byTask.get(run.taskSeq);
    if (runs) runs.unshift(run);
    else {
      this.byTask.set(run.taskSeq, [run]);
      this.order.push(run.taskSeq);
    }
  }

  /** The task whose turn it is, and its first run; rotates the turn. */
  next(): Run | undefined {
    while (this.order.length) {
      if (this.cursor >= this.order.length) this.cursor = 0;
      const taskSeq = this.order[this.cursor]!;
      const runs = this.byTask.get(taskSeq);
      if (!runs || runs.length === 0) {
        this.byTask.delete(taskSeq);
        this.order.splice(this.cursor, 1);
        continue;
      }
      this.cursor++;
      return runs[0];
    }
    return undefined;
  }

  /** Removes `count` jobs from the head of `run`, dropping it (and its task) when empty. */
  consume(run: Run, count: number): void {
    run.from += count;
    if (run.from < run.to) return;
    const runs = this.byTask.get(run.taskSeq);
    if (!runs) return;
    const i = runs.indexOf(run);
    if (i >= 0) runs.splice(i, 1);
    if (runs.length === 0) {
      this.byTask.delete(run.taskSeq);
      const at = this.order.indexOf(run.taskSeq);
      if (at >= 0) {
        this.order.splice(at, 1);
        if (at < this.cursor) this.cursor--;
      }
    }
  }

  /** Forgets every run of a task (its queued jobs were all cancelled). */
  dropTask(taskSeq: number): void {
    if (!this.byTask.delete(taskSeq)) return;
    const at = this.order.indexOf(taskSeq);
    if (at >= 0) {
      this.order.splice(at, 1);
      if (at < this.cursor) this.cursor--;
    }
  }

  /** How many tasks have queued runs. */
  get taskCount(): number {
    return this.byTask.size;
  }

  clear(): void {
    this.byTask.clear();
    this.order = [];
    this.cursor = 0;
  }
}

/** RUNNABLE jobs: on-demand jobs are dispatched before economy ones, each priority round-robin over tasks. */
export class RunnableQueues {
  /** In dispatch order: ON_DEMAND_PRIORITY, then ON_DEMAND_ECONOMY. */
  readonly byPriority: readonly [TaskQueues, TaskQueues] = [new TaskQueues(), new TaskQueues()];

  private queueOf(run: Run): TaskQueues {
    return this.byPriority[run.priority === Priority.ON_DEMAND_ECONOMY ? 1 : 0];
  }

  push(run: Run): void {
    this.queueOf(run).push(run);
  }

  /** Puts a single job (a retry, a released job) at the head of its task's queue. */
  pushFront(run: Run): void {
    this.queueOf(run).pushFront(run);
  }

  dropTask(taskSeq: number): void {
    for (const queue of this.byPriority) queue.dropTask(taskSeq);
  }

  clear(): void {
    for (const queue of this.byPriority) queue.clear();
  }
}
