// Operations on the whole state or on one workspace's share of it: what a reset removes and what the state
// holds (snapshot/reset.ts, snapshot/snapshot.ts). Each runs inside the caller's transaction.
import type { Statement } from "better-sqlite3";
import type { Db } from "../database.js";

/** How many rows of each kind the state holds, or a reset removed. */
export interface StateCounts {
  workspaces: number;
  users: number;
  projects: number;
  tasks: number;
  jobs: number;
  objects: number;
}

/** Tables whose rows survive a full reset as they are (the kept user's rows are kept selectively). */
const KEPT = new Set(["meta", "signing_keys", "workspaces", "users", "api_keys"]);

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export class StateRepository {
  private readonly stmts;
  /** DELETE statements of the tables a full reset empties (the schema is fixed once migrations ran). */
  private emptyTables: Statement[] | undefined;

  constructor(private readonly db: Db) {
    const tasks = "(SELECT seq FROM tasks WHERE workspace_id = @ws)";
    const jobs = `(SELECT seq FROM jobs WHERE task_seq IN ${tasks})`;
    this.stmts = {
      workspacesBut: db.prepare("SELECT COUNT(*) AS n FROM workspaces WHERE id IS NOT ?"),
      usersBut: db.prepare("SELECT COUNT(*) AS n FROM users WHERE id IS NOT ?"),
      projects: db.prepare("SELECT COUNT(*) AS n FROM projects"),
      tasks: db.prepare("SELECT COUNT(*) AS n FROM tasks"),
      jobs: db.prepare("SELECT COUNT(*) AS n FROM jobs"),
      objects: db.prepare("SELECT COUNT(*) AS n FROM storage_objects"),
      keysBut: db.prepare("DELETE FROM api_keys WHERE user_id IS NOT ?"),
      deleteUsersBut: db.prepare("DELETE FROM users WHERE id IS NOT ?"),
      deleteWorkspacesBut: db.prepare("DELETE FROM workspaces WHERE id IS NOT ?"),
      resetWorkspaceLimit: db.prepare("UPDATE workspaces SET vcpu_limit = @limit, vcpu_limit_updated_at = NULL WHERE id = @ws"),
      // One workspace's share.
      projectsOf: db.prepare("SELECT COUNT(*) AS n FROM projects WHERE workspace_id = @ws"),
      tasksOf: db.prepare("SELECT COUNT(*) AS n FROM tasks WHERE workspace_id = @ws"),
      jobsOf: db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE task_seq IN ${tasks}`),
      deleteLogsOf: db.prepare(`DELETE FROM job_logs WHERE job_seq IN ${jobs}`),
      deleteAttemptsOf: db.prepare(`DELETE FROM job_attempts WHERE job_seq IN ${jobs}`),
      deleteJobsOf: db.prepare(`DELETE FROM jobs WHERE task_seq IN ${tasks}`),
      deleteCountsOf: db.prepare(`DELETE FROM job_counts WHERE group_id IN (SELECT id FROM job_groups WHERE task_seq IN ${tasks})`),
      deleteGroupsOf: db.prepare(`DELETE FROM job_groups WHERE task_seq IN ${tasks}`),
      deleteBatchesOf: db.prepare(`DELETE FROM job_batches WHERE task_seq IN ${tasks}`),
      projectIdsOf: db.prepare("SELECT id FROM projects WHERE workspace_id = @ws"),
      deleteObjectsUnder: db.prepare("DELETE FROM storage_objects WHERE substr(key, 1, length(@prefix)) = @prefix"),
      deleteUploadsUnder: db.prepare("DELETE FROM storage_uploads WHERE substr(key, 1, length(@prefix)) = @prefix"),
      deletePoliciesOf: db.prepare(
        `DELETE FROM retention_policies
         WHERE (scope = 'workspace' AND owner_id = @ws) OR (scope = 'project' AND owner_id IN (SELECT id FROM projects WHERE workspace_id = @ws))`,
      ),
      deleteTasksOf: db.prepare("DELETE FROM tasks WHERE workspace_id = @ws"),
      deleteProjectsOf: db.prepare("DELETE FROM projects WHERE workspace_id = @ws"),
    };
  }

  /** What the whole state holds; `but` leaves one workspace and one user out of the count. */
  counts(but: { workspaceId: string; userId: string } | undefined = undefined): StateCounts {
    const n = (stmt: Statement, ...args: unknown[]) => (stmt.get(...args) as { n: number }).n;
    return {
      workspaces: n(this.stmts.workspacesBut, but?.workspaceId ?? null),
      users: n(this.stmts.usersBut, but?.userId ?? null),
      projects: n(this.stmts.projects),
      tasks: n(this.stmts.tasks),
      jobs: n(this.stmts.jobs),
      objects: n(this.stmts.objects),
    };
  }

  /**
   * Removes every row of every table except the signing keys and `meta`, and except `keep` (a user, with its
   * workspace and API keys), whose workspace vCPU limit becomes `keep.workspaceLimit`. Returns what went.
   */
  resetAll(keep: { userId: string; workspaceId: string; workspaceLimit: number | null } | undefined): StateCounts {
    const removed = this.counts(keep);
    // Every foreign key cascades, so the order does not matter. AUTOINCREMENT counters are kept: ids are not
    // reused, so nothing that remembered an old id can mistake a new row for it.
    this.emptyTables ??= (
      this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]
    )
      .filter(({ name }) => !KEPT.has(name))
      .map(({ name }) => this.db.prepare(`DELETE FROM ${quote(name)}`));
    for (const statement of this.emptyTables) statement.run();
    this.stmts.keysBut.run(keep?.userId ?? null);
    this.stmts.deleteUsersBut.run(keep?.userId ?? null);
    this.stmts.deleteWorkspacesBut.run(keep?.workspaceId ?? null);
    if (keep) this.stmts.resetWorkspaceLimit.run({ ws: keep.workspaceId, limit: keep.workspaceLimit });
    return removed;
  }

  /**
   * Removes one workspace's projects (with their limits, dimensions and registry metadata), tasks, jobs (batches,
   * groups, counts, attempts, logs), retention policies and the stored objects and unfinished uploads under its
   * projects' folders (`projects/<id>/`, in every bucket); its vCPU limit becomes `workspaceLimit`. The workspace,
   * its users and keys stay. Returns what went.
   */
  resetWorkspace(workspaceId: string, workspaceLimit: number | null): StateCounts {
    const ws = { ws: workspaceId };
    const n = (stmt: Statement) => (stmt.get(ws) as { n: number }).n;
    const removed: StateCounts = {
      workspaces: 0,
      users: 0,
      projects: n(this.stmts.projectsOf),
      tasks: n(this.stmts.tasksOf),
      jobs: n(this.stmts.jobsOf),
      objects: 0,
    };
    this.stmts.deleteLogsOf.run(ws);
    this.stmts.deleteAttemptsOf.run(ws);
    this.stmts.deleteJobsOf.run(ws);
    this.stmts.deleteCountsOf.run(ws);
    this.stmts.deleteGroupsOf.run(ws);
    this.stmts.deleteBatchesOf.run(ws);
    for (const { id } of this.stmts.projectIdsOf.all(ws) as { id: string }[]) {
      const prefix = `projects/${id}/`;
      removed.objects += this.stmts.deleteObjectsUnder.run({ prefix }).changes;
      this.stmts.deleteUploadsUnder.run({ prefix });
    }
    this.stmts.deletePoliciesOf.run(ws);
    // Tasks go with their projects (foreign keys cascade), and so do limits, dimensions and registry metadata.
    this.stmts.deleteTasksOf.run(ws);
    this.stmts.deleteProjectsOf.run(ws);
    this.stmts.resetWorkspaceLimit.run({ ws: workspaceId, limit: workspaceLimit });
    return removed;
  }
}
