// Persistence of tasks.
import type { Db } from "../database.js";

export type LifecycleStatus = "ACTIVE" | "ARCHIVED" | "DELETED";

export interface TaskRow {
  seq: number;
  id: string;
  project_id: string;
  workspace_id: string;
  name: string;
  description: string;
  created_by: string;
  lifecycle_status: LifecycleStatus;
  created_at: number;
  last_active_at: number;
  archived_at: number | null;
  deleted_at: number | null;
}

export class TaskRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO tasks (id, project_id, workspace_id, name, description, created_by, lifecycle_status,
           created_at, last_active_at, archived_at, deleted_at)
         VALUES (@id, @project_id, @workspace_id, @name, @description, @created_by, @lifecycle_status,
           @created_at, @last_active_at, @archived_at, @deleted_at)`,
      ),
      get: db.prepare("SELECT * FROM tasks WHERE id = ? AND project_id = ?"),
      bySeq: db.prepare("SELECT * FROM tasks WHERE seq = ?"),
      page: db.prepare("SELECT * FROM tasks WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
      setStatus: db.prepare("UPDATE tasks SET lifecycle_status = ?, archived_at = ?, deleted_at = ?, last_active_at = ? WHERE id = ?"),
      touch: db.prepare("UPDATE tasks SET last_active_at = MAX(last_active_at, ?) WHERE id = ?"),
      activeInactiveSince: db.prepare("SELECT * FROM tasks WHERE lifecycle_status = 'ACTIVE' AND project_id = ? AND last_active_at <= ?"),
      seqsOfWorkspace: db.prepare("SELECT seq FROM tasks WHERE workspace_id = ?"),
      countsByStatus: db.prepare(
        "SELECT lifecycle_status AS status, COUNT(*) AS n FROM tasks WHERE workspace_id = ? GROUP BY lifecycle_status",
      ),
      archivedSince: db.prepare("SELECT * FROM tasks WHERE lifecycle_status = 'ARCHIVED' AND project_id = ? AND archived_at <= ?"),
    };
  }

  insert(row: Omit<TaskRow, "seq">): void {
    this.stmts.insert.run(row);
  }

  get(id: string, projectId: string): TaskRow | undefined {
    return this.stmts.get.get(id, projectId) as TaskRow | undefined;
  }

  bySeq(seq: number): TaskRow | undefined {
    return this.stmts.bySeq.get(seq) as TaskRow | undefined;
  }

  page(projectId: string, afterSeq: number, limit: number): TaskRow[] {
    return this.stmts.page.all(projectId, afterSeq, limit) as TaskRow[];
  }

  setStatus(task: Pick<TaskRow, "id" | "lifecycle_status" | "archived_at" | "deleted_at" | "last_active_at">): void {
    this.stmts.setStatus.run(task.lifecycle_status, task.archived_at, task.deleted_at, task.last_active_at, task.id);
  }

  /** Records activity (a submission, a cancellation). */
  touch(id: string, at: number): void {
    this.stmts.touch.run(at, id);
  }

  activeInactiveSince(projectId: string, cutoff: number): TaskRow[] {
    return this.stmts.activeInactiveSince.all(projectId, cutoff) as TaskRow[];
  }

  archivedSince(projectId: string, cutoff: number): TaskRow[] {
    return this.stmts.archivedSince.all(projectId, cutoff) as TaskRow[];
  }

  seqsOfWorkspace(workspaceId: string): number[] {
    return (this.stmts.seqsOfWorkspace.all(workspaceId) as { seq: number }[]).map((r) => r.seq);
  }

  /** Tasks of a workspace per lifecycle status (statuses without a task are left out). */
  countsByStatus(workspaceId: string): Map<LifecycleStatus, number> {
    const rows = this.stmts.countsByStatus.all(workspaceId) as { status: LifecycleStatus; n: number }[];
    return new Map(rows.map((r) => [r.status, r.n]));
  }
}
