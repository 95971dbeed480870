// Persistence of job batches, jobs, their counts, earlier attempts and output lines.
import { JobStatus, statusNames } from "../../jobs/status.js";
import type { Db } from "../database.js";
import { StatementCache } from "../statement-cache.js";

export interface BatchRow {
  seq: number;
  parent_job_id: string;
  task_seq: number;
  group_id: number;
  first_job: number;
  batch_size: number;
  created_by: string;
  received_at: number;
  vcpus: number;
  priority: number;
  max_retries: number;
  /** JSON: the accepted submit element (what the submit response echoes). */
  request: string;
}

export interface JobRow {
  seq: number;
  batch_seq: number;
  task_seq: number;
  group_id: number;
  status: number;
  region: string;
  attempt: number;
  cancelled: number;
  reason: string | null;
  failure_code: string | null;
  exit_code: number | null;
  container_reason: string | null;
  instance_id: string | null;
  submitted_at: number;
  provider_at: number | null;
  runnable_at: number | null;
  starting_at: number | null;
  running_at: number | null;
  ended_at: number | null;
  updated_at: number;
}

export interface AttemptRow {
  job_seq: number;
  attempt: number;
  starting_at: number | null;
  running_at: number | null;
  ended_at: number;
  reason: string | null;
  failure_code: string | null;
  exit_code: number | null;
  container_reason: string | null;
  instance_id: string | null;
}

export interface LogRow {
  at: number;
  stream: number;
  message: string;
}

export interface JobFilter {
  taskSeq: number;
  groupId?: number;
  status?: number;
  seqs?: number[];
}

const STATUS_COUNT = statusNames.length;

export class JobRepository {
  private readonly stmts;
  private readonly dynamic: StatementCache;

  constructor(db: Db) {
    this.dynamic = new StatementCache(db);
    this.stmts = {
      group: db.prepare("SELECT id FROM job_groups WHERE task_seq = ? AND name = ?"),
      insertGroup: db.prepare("INSERT INTO job_groups (task_seq, name) VALUES (?, ?)"),
      insertCount: db.prepare("INSERT INTO job_counts (group_id, status, n) VALUES (?, ?, 0)"),
      addCount: db.prepare("UPDATE job_counts SET n = n + ? WHERE group_id = ? AND status = ?"),
      groupsOfTask: db.prepare("SELECT id, name FROM job_groups WHERE task_seq = ? ORDER BY id"),
      countsOfGroup: db.prepare("SELECT status, n FROM job_counts WHERE group_id = ?"),
      countsOfTask: db.prepare(
        "SELECT c.status AS status, SUM(c.n) AS n FROM job_counts c JOIN job_groups g ON g.id = c.group_id WHERE g.task_seq = ? GROUP BY c.status",
      ),
      nextJobSeq: db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM jobs"),
      insertBatch: db.prepare(
        `INSERT INTO job_batches (parent_job_id, task_seq, group_id, first_job, batch_size, created_by, received_at, vcpus, priority, max_retries, request)
         VALUES (@parent_job_id, @task_seq, @group_id, @first_job, @batch_size, @created_by, @received_at, @vcpus, @priority, @max_retries, @request)`,
      ),
      insertJob: db.prepare(
        `INSERT INTO jobs (seq, batch_seq, task_seq, group_id, status, region, submitted_at, updated_at)
         VALUES (?, ?, ?, ?, ${JobStatus.SUBMITTED_TO_RESCALE}, ?, ?, ?)`,
      ),
      batchByParent: db.prepare("SELECT * FROM job_batches WHERE parent_job_id = ?"),
      batch: db.prepare("SELECT * FROM job_batches WHERE seq = ?"),
      job: db.prepare("SELECT * FROM jobs WHERE seq = ?"),
      launchFacts: db.prepare("SELECT batch_seq, task_seq, attempt, region FROM jobs WHERE seq = ?"),
      attempts: db.prepare("SELECT * FROM job_attempts WHERE job_seq = ? ORDER BY attempt"),
      insertAttempt: db.prepare(
        `INSERT INTO job_attempts (job_seq, attempt, starting_at, running_at, ended_at, reason, failure_code, exit_code, container_reason, instance_id)
         VALUES (@job_seq, @attempt, @starting_at, @running_at, @ended_at, @reason, @failure_code, @exit_code, @container_reason, @instance_id)`,
      ),
      lastLogAt: db.prepare("SELECT MAX(at) AS at FROM job_logs WHERE job_seq = ?"),
      insertLog: db.prepare("INSERT INTO job_logs (job_seq, at, stream, message) VALUES (?, ?, ?, ?)"),
      logsAsc: db.prepare("SELECT at, stream, message FROM job_logs WHERE job_seq = ? AND at > ? ORDER BY at LIMIT ?"),
      logsDesc: db.prepare("SELECT at, stream, message FROM job_logs WHERE job_seq = ? AND at < ? ORDER BY at DESC LIMIT ?"),
      seqsOfTask: db.prepare("SELECT seq FROM jobs WHERE task_seq = ? ORDER BY seq LIMIT ?"),
      seqsOfGroup: db.prepare("SELECT seq FROM jobs WHERE task_seq = ? AND group_id = ? ORDER BY seq LIMIT ?"),
      publicId: db.prepare("SELECT b.parent_job_id, b.first_job FROM jobs j JOIN job_batches b ON b.seq = j.batch_seq WHERE j.seq = ?"),
      deleteLogsOfTask: db.prepare("DELETE FROM job_logs WHERE job_seq IN (SELECT seq FROM jobs WHERE task_seq = ?)"),
    };
  }

  /** The id of a task's group (`""` is the group of jobs submitted without one), created on first use. */
  groupId(taskSeq: number, name: string): number {
    const row = this.stmts.group.get(taskSeq, name) as { id: number } | undefined;
    if (row) return row.id;
    const id = Number(this.stmts.insertGroup.run(taskSeq, name).lastInsertRowid);
    for (let status = 0; status < STATUS_COUNT; status++) this.stmts.insertCount.run(id, status);
    return id;
  }

  findGroupId(taskSeq: number, name: string): number | undefined {
    return (this.stmts.group.get(taskSeq, name) as { id: number } | undefined)?.id;
  }

  groupsOfTask(taskSeq: number): { id: number; name: string }[] {
    return this.stmts.groupsOfTask.all(taskSeq) as { id: number; name: string }[];
  }

  countsOfGroup(groupId: number): number[] {
    return toCounts(this.stmts.countsOfGroup.all(groupId) as { status: number; n: number }[]);
  }

  countsOfTask(taskSeq: number): number[] {
    return toCounts(this.stmts.countsOfTask.all(taskSeq) as { status: number; n: number }[]);
  }

  /** Counts for jobs inserted directly in a status (the trigger only sees updates). */
  addCount(groupId: number, status: number, n: number): void {
    this.stmts.addCount.run(n, groupId, status);
  }

  nextJobSeq(): number {
    return (this.stmts.nextJobSeq.get() as { next: number }).next;
  }

  insertBatch(row: Omit<BatchRow, "seq">): number {
    return Number(this.stmts.insertBatch.run(row).lastInsertRowid);
  }

  insertJob(seq: number, batchSeq: number, taskSeq: number, groupId: number, region: string, at: number): void {
    this.stmts.insertJob.run(seq, batchSeq, taskSeq, groupId, region, at, at);
  }

  batchByParent(parentJobId: string): BatchRow | undefined {
    return this.stmts.batchByParent.get(parentJobId) as BatchRow | undefined;
  }

  batch(seq: number): BatchRow | undefined {
    return this.stmts.batch.get(seq) as BatchRow | undefined;
  }

  job(seq: number): JobRow | undefined {
    return this.stmts.job.get(seq) as JobRow | undefined;
  }

  /** Up to `limit` jobs matching `filter` with seq > afterSeq, in submission order. */
  page(filter: JobFilter, afterSeq: number, limit: number): JobRow[] {
    const where = ["seq > ?"];
    const args: number[] = [afterSeq];
    if (filter.groupId !== undefined) {
      where.push("group_id = ?");
      args.push(filter.groupId);
    } else {
      where.push("task_seq = ?");
      args.push(filter.taskSeq);
    }
    if (filter.status !== undefined) {
      where.push("status = ?");
      args.push(filter.status);
    }
    if (filter.seqs) {
      if (filter.seqs.length === 0) return [];
      where.push(`seq IN (${filter.seqs.map(() => "?").join(",")})`);
      args.push(...filter.seqs);
      if (filter.groupId !== undefined) {
        where.push("task_seq = ?");
        args.push(filter.taskSeq);
      }
    }
    const sql = `SELECT * FROM jobs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`;
    return this.dynamic.get(sql).all(...args, limit) as JobRow[];
  }

  /** What launching a job needs of its row. */
  launchFacts(seq: number): Pick<JobRow, "batch_seq" | "task_seq" | "attempt" | "region"> | undefined {
    return this.stmts.launchFacts.get(seq) as Pick<JobRow, "batch_seq" | "task_seq" | "attempt" | "region"> | undefined;
  }

  attempts(jobSeq: number): AttemptRow[] {
    return this.stmts.attempts.all(jobSeq) as AttemptRow[];
  }

  insertAttempt(row: AttemptRow): void {
    this.stmts.insertAttempt.run(row);
  }

  lastLogAt(jobSeq: number): number {
    return (this.stmts.lastLogAt.get(jobSeq) as { at: number | null }).at ?? 0;
  }

  insertLog(jobSeq: number, at: number, stream: number, message: string): void {
    this.stmts.insertLog.run(jobSeq, at, stream, message);
  }

  /** A page of log lines after (asc) or before (desc) the cursor time. */
  logs(jobSeq: number, order: "asc" | "desc", cursor: number | undefined, limit: number): LogRow[] {
    return (
      order === "asc"
        ? this.stmts.logsAsc.all(jobSeq, cursor ?? -1, limit)
        : this.stmts.logsDesc.all(jobSeq, cursor ?? Number.MAX_SAFE_INTEGER, limit)
    ) as LogRow[];
  }

  deleteLogsOfTask(taskSeq: number): void {
    this.stmts.deleteLogsOfTask.run(taskSeq);
  }

  /** The first `limit` jobs of a task (of one group, if given), in submission order. */
  seqsOf(taskSeq: number, groupId: number | undefined, limit: number): number[] {
    const rows = (
      groupId === undefined ? this.stmts.seqsOfTask.all(taskSeq, limit) : this.stmts.seqsOfGroup.all(taskSeq, groupId, limit)
    ) as {
      seq: number;
    }[];
    return rows.map((r) => r.seq);
  }

  /** The job's public id, `<parentJobId>:<index>`. */
  publicId(seq: number): string | undefined {
    const row = this.stmts.publicId.get(seq) as { parent_job_id: string; first_job: number } | undefined;
    return row && `${row.parent_job_id}:${seq - row.first_job}`;
  }
}

function toCounts(rows: { status: number; n: number }[]): number[] {
  const counts = new Array<number>(STATUS_COUNT).fill(0);
  for (const row of rows) if (row.status < STATUS_COUNT) counts[row.status] = row.n;
  return counts;
}
