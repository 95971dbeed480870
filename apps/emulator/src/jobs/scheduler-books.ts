// What the scheduler knows in memory, rebuilt from the database on start (Scheduler.recover): the jobs waiting
// for admission and for dispatch, the vCPUs admitted per project and workspace, the attempts in flight, and the
// facts of batches and tasks that never change. The parts of the scheduler (scheduler.ts, admission.ts,
// attempt-end.ts, scheduler-controls.ts) work on one instance; the database stays the truth.
import type { BatchFacts, JobPlace, JobStateRepository, TaskPlace } from "../db/repositories/job-states.js";
import type { LimitReader } from "../domain/vcpu-limits.js";
import { InFlight } from "./in-flight.js";
import { type Run, RunnableQueues, TaskQueues } from "./queues.js";
import { VcpuAccounting } from "./vcpu-accounting.js";

/** Most batches and tasks whose facts are cached. */
const FACTS_LIMIT = 50_000;

export class SchedulerBooks {
  /** SUBMITTED_TO_RESCALE jobs, waiting for admission. */
  readonly pending = new TaskQueues();
  /** RUNNABLE jobs, waiting for dispatch. */
  readonly runnable = new RunnableQueues();
  readonly vcpus: VcpuAccounting;
  readonly inFlight: InFlight;
  private readonly batches = new Map<number, BatchFacts>();
  private readonly tasks = new Map<number, TaskPlace>();

  constructor(
    private readonly states: JobStateRepository,
    limits: LimitReader,
    capacity: () => number,
  ) {
    this.vcpus = new VcpuAccounting(limits);
    this.inFlight = new InFlight(capacity);
  }

  /** vCPUs, priority and retries of a batch (immutable), so ending an attempt costs no batch read. */
  batch(batchSeq: number): BatchFacts {
    let facts = this.batches.get(batchSeq);
    if (!facts) {
      facts = this.states.batchFacts(batchSeq)!;
      if (this.batches.size >= FACTS_LIMIT) this.batches.clear();
      this.batches.set(batchSeq, facts);
    }
    return facts;
  }

  task(taskSeq: number): TaskPlace {
    let place = this.tasks.get(taskSeq);
    if (!place) {
      place = this.states.taskPlace(taskSeq)!;
      if (this.tasks.size >= FACTS_LIMIT) this.tasks.clear();
      this.tasks.set(taskSeq, place);
    }
    return place;
  }

  /** One job as a run of one. */
  runOf(job: Pick<JobPlace, "seq" | "task_seq" | "batch_seq">): Run {
    const batch = this.batch(job.batch_seq);
    const task = this.task(job.task_seq);
    return {
      taskSeq: job.task_seq,
      batchSeq: job.batch_seq,
      from: job.seq,
      to: job.seq + 1,
      vcpus: batch.vcpus,
      priority: batch.priority,
      projectId: task.project_id,
      workspaceId: task.workspace_id,
    };
  }

  /** Forgets cached facts (rows were deleted or replaced: seqs may be reused). */
  forgetFacts(): void {
    this.batches.clear();
    this.tasks.clear();
  }
}
