// Every change of a job's status, as one named statement each: what the scheduler does to the jobs table
// (admit, start, markRunning, finish, retry, cancel), the test controls' single steps, and the reasons fault
// rules show on waiting jobs. Status codes come from JobStatus, put into the SQL once when a statement is
// prepared. Transitions are conditional on the status they leave, so a job that moved meanwhile (a cancelled
// job still in a queue run) is left alone and the caller learns it from the change count.
import { JobStatus } from "../../jobs/status.js";
import type { Db } from "../database.js";
import { StatementCache } from "../statement-cache.js";

const { SUBMITTED_TO_RESCALE: QUEUED, SUBMITTED_TO_PROVIDER: PROVIDER, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED } = JobStatus;

/** Where a job belongs: what the scheduler needs to queue it and to count its vCPUs. */
export interface JobPlace {
  seq: number;
  status: number;
  task_seq: number;
  batch_seq: number;
  attempt: number;
}

/** The facts of a batch that never change after submission. */
export interface BatchFacts {
  vcpus: number;
  priority: number;
  max_retries: number;
}

export interface TaskPlace {
  id: string;
  project_id: string;
  workspace_id: string;
}

/** What ending an attempt needs of the job's row. */
export interface AttemptRecord {
  status: number;
  attempt: number;
  batch_seq: number;
  starting_at: number | null;
  running_at: number | null;
  instance_id: string | null;
}

/** How an attempt ended, as stored (see jobs/outcomes.ts). */
export interface StoredEnding {
  status: typeof SUCCEEDED | typeof FAILED;
  reason: string;
  failureCode: string | null;
  exitCode: number | null;
  containerReason: string | null;
  cancelled: boolean;
}

/** Jobs of one task, optionally of one group or only some of them. */
export interface JobSelection {
  taskSeq: number;
  groupId?: number;
  seqs?: number[];
}

/** What a fault rule matches a job attempt on. */
export interface FaultFactsRow {
  seq: number;
  status: number;
  attempt: number;
  batch_seq: number;
  first_job: number;
  parent_job_id: string;
  grp: string;
  task_id: string;
  project_id: string;
  workspace_id: string;
  /** Jobs of the task submitted in earlier batches: the job's position in its task is `before + index`. */
  before: number;
}

export class JobStateRepository {
  private readonly stmts;
  private readonly dynamic: StatementCache;

  constructor(db: Db) {
    this.dynamic = new StatementCache(db);
    this.stmts = {
      admit: db.prepare(
        `UPDATE jobs SET status = ${RUNNABLE}, provider_at = @now, runnable_at = @now, updated_at = @now
         WHERE seq >= @from AND seq < @to AND status = ${QUEUED}`,
      ),
      start: db.prepare(
        `UPDATE jobs SET status = ${STARTING}, starting_at = @now, updated_at = @now WHERE seq = @seq AND status = ${RUNNABLE}`,
      ),
      markRunning: db.prepare(
        `UPDATE jobs SET status = ${RUNNING}, running_at = @at, instance_id = @instanceId, updated_at = @at
         WHERE seq = @seq AND status = ${STARTING}`,
      ),
      finish: db.prepare(
        `UPDATE jobs SET status = @status, ended_at = @at, updated_at = @at, reason = @reason, failure_code = @failureCode,
           exit_code = @exitCode, container_reason = @containerReason, cancelled = @cancelled,
           starting_at = COALESCE(starting_at, @at)
         WHERE seq = @seq AND status IN (${STARTING}, ${RUNNING})`,
      ),
      retry: db.prepare(
        `UPDATE jobs SET status = ${RUNNABLE}, attempt = attempt + 1, starting_at = NULL, running_at = NULL, ended_at = NULL,
           reason = NULL, failure_code = NULL, exit_code = NULL, container_reason = NULL, instance_id = NULL, updated_at = @now
         WHERE seq = @seq AND status IN (${STARTING}, ${RUNNING})`,
      ),
      insertAttempt: db.prepare(
        `INSERT INTO job_attempts (job_seq, attempt, starting_at, running_at, ended_at, reason, failure_code, exit_code, container_reason, instance_id)
         VALUES (@seq, @attempt, @starting_at, @running_at, @ended_at, @reason, @failure_code, @exit_code, @container_reason, @instance_id)`,
      ),
      stepToProvider: db.prepare(
        `UPDATE jobs SET status = ${PROVIDER}, provider_at = @now, updated_at = @now WHERE seq = @seq AND status = ${QUEUED}`,
      ),
      stepToRunnable: db.prepare(
        `UPDATE jobs SET status = ${RUNNABLE}, runnable_at = @now, updated_at = @now WHERE seq = @seq AND status = ${PROVIDER}`,
      ),
      stepToStarting: db.prepare(
        `UPDATE jobs SET status = ${STARTING}, starting_at = @now, reason = NULL, updated_at = @now WHERE seq = @seq AND status = ${RUNNABLE}`,
      ),
      stepToRunning: db.prepare(
        `UPDATE jobs SET status = ${RUNNING}, running_at = @now, instance_id = @instanceId, reason = NULL, updated_at = @now
         WHERE seq = @seq AND status = ${STARTING}`,
      ),
      releaseStepped: db.prepare(`UPDATE jobs SET status = ${RUNNABLE}, runnable_at = @now, updated_at = @now WHERE status = ${PROVIDER}`),
      unfinished: db.prepare(`SELECT seq, status, task_seq, batch_seq, attempt FROM jobs WHERE status < ${SUCCEEDED} ORDER BY seq`),
      place: db.prepare("SELECT seq, status, task_seq, batch_seq, attempt FROM jobs WHERE seq = ?"),
      attemptRecord: db.prepare("SELECT status, attempt, batch_seq, starting_at, running_at, instance_id FROM jobs WHERE seq = ?"),
      batchFacts: db.prepare("SELECT vcpus, priority, max_retries FROM job_batches WHERE seq = ?"),
      taskPlace: db.prepare("SELECT id, project_id, workspace_id FROM tasks WHERE seq = ?"),
      faultFacts: db.prepare(
        `SELECT j.seq, j.status, j.attempt, j.batch_seq, b.first_job, b.parent_job_id, g.name AS grp,
                t.id AS task_id, t.project_id, t.workspace_id,
                (SELECT COALESCE(SUM(o.batch_size), 0) FROM job_batches o WHERE o.task_seq = j.task_seq AND o.seq < j.batch_seq) AS before
         FROM jobs j
         JOIN job_batches b ON b.seq = j.batch_seq
         JOIN job_groups g ON g.id = j.group_id
         JOIN tasks t ON t.seq = j.task_seq
         WHERE j.seq = ?`,
      ),
      setWaitingReason: db.prepare(
        `UPDATE jobs SET reason = @reason, updated_at = @now WHERE seq = @seq AND status IN (${RUNNABLE}, ${STARTING}, ${RUNNING})`,
      ),
      clearWaitingReason: db.prepare(
        `UPDATE jobs SET reason = NULL, updated_at = @now
         WHERE seq = @seq AND status IN (${RUNNABLE}, ${STARTING}, ${RUNNING}) AND reason = @reason`,
      ),
    };
  }

  /** SUBMITTED_TO_RESCALE → RUNNABLE (SUBMITTED_TO_PROVIDER recorded) for the jobs [from, to); returns how many moved. */
  admit(from: number, to: number, now: number): number {
    return this.stmts.admit.run({ from, to, now }).changes;
  }

  /** RUNNABLE → STARTING; false when the job is not RUNNABLE any more (cancelled while queued). */
  start(seq: number, now: number): boolean {
    return this.stmts.start.run({ seq, now }).changes > 0;
  }

  /** STARTING → RUNNING, on the executor's word. */
  markRunning(seq: number, instanceId: string, at: number): void {
    this.stmts.markRunning.run({ seq, instanceId, at });
  }

  /** STARTING or RUNNING → SUCCEEDED or FAILED. */
  finish(seq: number, ending: StoredEnding, at: number): void {
    this.stmts.finish.run({
      seq,
      at,
      status: ending.status,
      reason: ending.reason,
      failureCode: ending.failureCode,
      exitCode: ending.exitCode,
      containerReason: ending.containerReason,
      cancelled: ending.cancelled ? 1 : 0,
    });
  }

  /** Keeps the failed attempt in `job_attempts` and puts the job back to RUNNABLE for its next attempt. */
  retry(seq: number, failed: AttemptRecord, ending: StoredEnding, at: number): void {
    this.stmts.insertAttempt.run({
      seq,
      attempt: failed.attempt,
      starting_at: failed.starting_at,
      running_at: failed.running_at,
      ended_at: at,
      reason: ending.reason,
      failure_code: ending.failureCode,
      exit_code: ending.exitCode,
      container_reason: ending.containerReason,
      instance_id: failed.instance_id,
    });
    this.stmts.retry.run({ seq, now: at });
  }

  /**
   * Cancels the queued jobs of a selection (SUBMITTED_TO_RESCALE, SUBMITTED_TO_PROVIDER, RUNNABLE → FAILED with
   * `reason`). Returns the admitted ones per batch (they held vCPUs), how many were cancelled, and the jobs in
   * STARTING or RUNNING, which only their executor can stop.
   */
  cancelQueued(
    selection: JobSelection,
    reason: string,
    at: number,
  ): { admittedPerBatch: { batch_seq: number; n: number }[]; cancelled: number; inFlight: number[] } {
    const where = ["task_seq = ?"];
    const args: number[] = [selection.taskSeq];
    if (selection.groupId !== undefined) {
      where.push("group_id = ?");
      args.push(selection.groupId);
    }
    if (selection.seqs) {
      if (selection.seqs.length === 0) return { admittedPerBatch: [], cancelled: 0, inFlight: [] };
      where.push(`seq IN (${selection.seqs.map(() => "?").join(",")})`);
      args.push(...selection.seqs);
    }
    const clause = where.join(" AND ");
    const admittedPerBatch = this.dynamic
      .get(`SELECT batch_seq, COUNT(*) AS n FROM jobs WHERE ${clause} AND status IN (${PROVIDER}, ${RUNNABLE}) GROUP BY batch_seq`)
      .all(...args) as { batch_seq: number; n: number }[];
    const cancelled = this.dynamic
      .get(
        `UPDATE jobs SET status = ${FAILED}, cancelled = 1, reason = ?, ended_at = ?, updated_at = ?
       WHERE ${clause} AND status IN (${QUEUED}, ${PROVIDER}, ${RUNNABLE})`,
      )
      .run(reason, at, at, ...args).changes;
    const inFlight = (
      this.dynamic.get(`SELECT seq FROM jobs WHERE ${clause} AND status IN (${STARTING}, ${RUNNING})`).all(...args) as { seq: number }[]
    ).map((r) => r.seq);
    return { admittedPerBatch, cancelled, inFlight };
  }

  // --- single steps of the test controls ------------------------------------------------------------------------

  /** SUBMITTED_TO_RESCALE → SUBMITTED_TO_PROVIDER. */
  stepToProvider(seq: number, now: number): boolean {
    return this.stmts.stepToProvider.run({ seq, now }).changes > 0;
  }

  /** SUBMITTED_TO_PROVIDER → RUNNABLE. */
  stepToRunnable(seq: number, now: number): boolean {
    return this.stmts.stepToRunnable.run({ seq, now }).changes > 0;
  }

  /** RUNNABLE → STARTING, clearing a waiting reason. */
  stepToStarting(seq: number, now: number): boolean {
    return this.stmts.stepToStarting.run({ seq, now }).changes > 0;
  }

  /** STARTING → RUNNING, clearing a waiting reason. */
  stepToRunning(seq: number, instanceId: string, now: number): boolean {
    return this.stmts.stepToRunning.run({ seq, instanceId, now }).changes > 0;
  }

  /** After a restart: jobs a step left in SUBMITTED_TO_PROVIDER become RUNNABLE (dispatch takes only those). */
  releaseStepped(now: number): void {
    this.stmts.releaseStepped.run({ now });
  }

  // --- reads ------------------------------------------------------------------------------------------------------

  /** Every job not yet SUCCEEDED or FAILED, in submission order. */
  unfinished(): IterableIterator<JobPlace> {
    return this.stmts.unfinished.iterate() as IterableIterator<JobPlace>;
  }

  place(seq: number): JobPlace | undefined {
    return this.stmts.place.get(seq) as JobPlace | undefined;
  }

  attemptRecord(seq: number): AttemptRecord | undefined {
    return this.stmts.attemptRecord.get(seq) as AttemptRecord | undefined;
  }

  batchFacts(batchSeq: number): BatchFacts | undefined {
    return this.stmts.batchFacts.get(batchSeq) as BatchFacts | undefined;
  }

  taskPlace(taskSeq: number): TaskPlace | undefined {
    return this.stmts.taskPlace.get(taskSeq) as TaskPlace | undefined;
  }

  faultFacts(seq: number): FaultFactsRow | undefined {
    return this.stmts.faultFacts.get(seq) as FaultFactsRow | undefined;
  }

  // --- reasons shown while a job waits (fault rules) ---------------------------------------------------------------

  /** Shows `reason` on a job in RUNNABLE, STARTING or RUNNING. */
  setWaitingReason(seq: number, reason: string, now: number): void {
    this.stmts.setWaitingReason.run({ seq, reason, now });
  }

  /** Removes `reason` from a job in RUNNABLE, STARTING or RUNNING, if it still shows it. */
  clearWaitingReason(seq: number, reason: string, now: number): void {
    this.stmts.clearWaitingReason.run({ seq, reason, now });
  }
}
