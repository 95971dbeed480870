// Reset (admin API POST /reset): the whole state, or one workspace's.
//
// All: every row of every table goes, except the signing key and `meta`, the default user (the first one), its
// workspace and its API keys, so clients configured with that key keep working, even with a bearer token they
// hold. The default workspace's vCPU limit goes back to its start value, and the `--seed` identities are created
// again. One workspace: its projects (with their limits, dimensions and registry metadata), tasks, jobs (batches,
// groups, counts, attempts, logs), retention policies and stored objects go, and its vCPU limit is cleared (the
// default workspace's goes back to its start value); the workspace, its users and keys stay.
//
// Either way the scheduler forgets the removed jobs first and their attempts in flight are stopped (containers
// removed) before reset returns; caches derived from rows are cleared, counters of the metrics start again, and
// the files of removed objects are deleted. The clock, the scheduler's pause and the fault rules stay.
import type { adminComponents } from "../contract-types.js";
import type { Core } from "../core.js";
import { applySeed } from "../domain/identity.js";
import { notFound } from "../errors.js";
import type { JobService } from "../jobs/service.js";
import { referencedBlobs, removeUnreferenced } from "./storage-files.js";

export type ResetResult = adminComponents["schemas"]["ResetResult"];

/** Tables whose rows survive a full reset as they are (the default user's rows are kept selectively). */
const KEPT = new Set(["meta", "signing_keys", "workspaces", "users", "api_keys"]);

export async function resetState(s: Core, jobs: JobService, workspaceId?: string): Promise<ResetResult> {
  if (workspaceId !== undefined && !s.repos.identity.workspace(workspaceId)) throw notFound(`Workspace ${workspaceId} does not exist.`);
  const blobs = referencedBlobs(s.db);
  // Synchronous up to the promise: the rows change right below, before anything else runs.
  const drained = jobs.scheduler.discard(workspaceId);
  const removed = s.db.transaction(() => (workspaceId === undefined ? resetAll(s) : resetWorkspace(s, workspaceId)))();
  jobs.clearCaches();
  s.tokens.clearCache();
  s.counters.clear(workspaceId);
  await drained;
  await removeUnreferenced(s.storage, s.db, blobs);
  return removed;
}

function count(s: Core, sql: string, ...args: unknown[]): number {
  return (s.db.prepare(sql).get(...args) as { n: number }).n;
}

function startLimit(s: Core, workspaceId: string): number | null {
  const first = s.repos.identity.firstUser();
  return first?.workspace_id === workspaceId ? (s.options.workspaceVcpuLimit ?? null) : null;
}

function resetAll(s: Core): ResetResult {
  const db = s.db;
  const user = s.repos.identity.firstUser();
  const result: ResetResult = {
    workspaces: count(s, "SELECT COUNT(*) AS n FROM workspaces WHERE id IS NOT ?", user?.workspace_id ?? null),
    users: count(s, "SELECT COUNT(*) AS n FROM users WHERE id IS NOT ?", user?.id ?? null),
    projects: count(s, "SELECT COUNT(*) AS n FROM projects"),
    tasks: count(s, "SELECT COUNT(*) AS n FROM tasks"),
    jobs: count(s, "SELECT COUNT(*) AS n FROM jobs"),
    objects: count(s, "SELECT COUNT(*) AS n FROM storage_objects"),
  };
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[])
    .map((r) => r.name)
    .filter((name) => !KEPT.has(name));
  // Every foreign key cascades, so the order does not matter. AUTOINCREMENT counters are kept: ids are not
  // reused, so nothing that remembered an old id can mistake a new row for it.
  for (const table of tables) db.prepare(`DELETE FROM "${table.replace(/"/g, '""')}"`).run();
  if (user) {
    db.prepare("DELETE FROM api_keys WHERE user_id <> ?").run(user.id);
    db.prepare("DELETE FROM users WHERE id <> ?").run(user.id);
    db.prepare("DELETE FROM workspaces WHERE id <> ?").run(user.workspace_id);
    db.prepare("UPDATE workspaces SET vcpu_limit = ?, vcpu_limit_updated_at = NULL WHERE id = ?").run(startLimit(s, user.workspace_id), user.workspace_id);
  } else {
    db.prepare("DELETE FROM api_keys").run();
    db.prepare("DELETE FROM users").run();
    db.prepare("DELETE FROM workspaces").run();
  }
  if (s.options.seed) applySeed(s.identity, s.repos.identity, s.options.seed);
  return result;
}

function resetWorkspace(s: Core, workspaceId: string): ResetResult {
  const db = s.db;
  const tasks = "(SELECT seq FROM tasks WHERE workspace_id = @ws)";
  const jobs = `(SELECT seq FROM jobs WHERE task_seq IN ${tasks})`;
  const result: ResetResult = {
    workspaces: 0,
    users: 0,
    projects: count(s, "SELECT COUNT(*) AS n FROM projects WHERE workspace_id = ?", workspaceId),
    tasks: count(s, "SELECT COUNT(*) AS n FROM tasks WHERE workspace_id = ?", workspaceId),
    jobs: count(s, `SELECT COUNT(*) AS n FROM jobs WHERE task_seq IN ${tasks.replace("@ws", "?")}`, workspaceId),
    objects: 0,
  };
  const ws = { ws: workspaceId };
  db.prepare(`DELETE FROM job_logs WHERE job_seq IN ${jobs}`).run(ws);
  db.prepare(`DELETE FROM job_attempts WHERE job_seq IN ${jobs}`).run(ws);
  db.prepare(`DELETE FROM jobs WHERE task_seq IN ${tasks}`).run(ws);
  db.prepare(`DELETE FROM job_counts WHERE group_id IN (SELECT id FROM job_groups WHERE task_seq IN ${tasks})`).run(ws);
  db.prepare(`DELETE FROM job_groups WHERE task_seq IN ${tasks}`).run(ws);
  db.prepare(`DELETE FROM job_batches WHERE task_seq IN ${tasks}`).run(ws);
  // Stored objects and unfinished uploads under the projects' folders (`projects/<id>/`), in every bucket.
  const projects = db.prepare("SELECT id FROM projects WHERE workspace_id = ?").all(workspaceId) as { id: string }[];
  for (const { id } of projects) {
    const prefix = `projects/${id}/`;
    result.objects += db.prepare("DELETE FROM storage_objects WHERE substr(key, 1, length(?)) = ?").run(prefix, prefix).changes;
    db.prepare("DELETE FROM storage_uploads WHERE substr(key, 1, length(?)) = ?").run(prefix, prefix);
  }
  db.prepare(
    `DELETE FROM retention_policies
     WHERE (scope = 'workspace' AND owner_id = @ws) OR (scope = 'project' AND owner_id IN (SELECT id FROM projects WHERE workspace_id = @ws))`,
  ).run(ws);
  // Tasks go with their projects (foreign keys cascade), and so do limits, dimensions and registry metadata.
  db.prepare("DELETE FROM tasks WHERE workspace_id = ?").run(workspaceId);
  db.prepare("DELETE FROM projects WHERE workspace_id = ?").run(workspaceId);
  db.prepare("UPDATE workspaces SET vcpu_limit = ?, vcpu_limit_updated_at = NULL WHERE id = ?").run(startLimit(s, workspaceId), workspaceId);
  return result;
}
