// Tasks: creation, the lifecycle (ACTIVE ⇄ ARCHIVED, → DELETED), retention enforcement, and `HTCTask`.
import { isoTime } from "../clock.js";
import type { ProjectRow } from "../db/repositories/projects.js";
import type { LifecycleStatus, TaskRow } from "../db/repositories/tasks.js";
import type { Principal } from "./principal.js";
import { invalidField, notFound } from "../errors.js";
import type { Core } from "../core.js";
import { taskFolderPath } from "../storage/layout.js";
import { newUuid } from "./ids.js";
import { requireProject } from "./projects.js";

const HOUR_MS = 3600_000;

/** What the task lifecycle needs from the job side (the job service implements it). */
export interface TaskJobs {
  /** How many jobs of the task have not reached SUCCEEDED or FAILED. */
  unfinished(task: TaskRow): number;
  /** Cancels every unfinished job of the task (inside the caller's transaction). */
  cancelAll(task: TaskRow): void;
}

export function taskView(task: TaskRow) {
  return {
    projectId: task.project_id,
    taskId: task.id,
    taskName: task.name,
    taskDescription: task.description,
    createdBy: task.created_by,
    workspaceId: task.workspace_id,
    createdAt: isoTime(task.created_at),
    lastActiveAt: isoTime(task.last_active_at),
    archivedAt: task.archived_at === null ? null : isoTime(task.archived_at),
    deletedAt: task.deleted_at === null ? null : isoTime(task.deleted_at),
    taskFolderPath: taskFolderPath(task.project_id, task.id),
    lifecycleStatus: task.lifecycle_status,
  };
}

/** The project and task of the path, both of the caller's workspace, or 404. */
export function requireTask(s: Core, principal: Principal, projectId: string, taskId: string): { project: ProjectRow; task: TaskRow } {
  const project = requireProject(s, principal, projectId);
  const task = s.repos.tasks.get(taskId, project.id);
  if (!task) throw notFound(`Task ${taskId} does not exist in project ${projectId}.`);
  return { project, task };
}

export function createTask(s: Core, principal: Principal, project: ProjectRow, name: string, description: string): TaskRow {
  const now = s.clock.now();
  const id = newUuid();
  s.repos.tasks.insert({
    id,
    project_id: project.id,
    workspace_id: project.workspace_id,
    name,
    description,
    created_by: principal.user.id,
    lifecycle_status: "ACTIVE",
    created_at: now,
    last_active_at: now,
    archived_at: null,
    deleted_at: null,
  });
  return s.repos.tasks.get(id, project.id)!;
}

export function changeLifecycle(s: Core, jobs: TaskJobs, task: TaskRow, target: LifecycleStatus): TaskRow {
  const now = s.clock.now();
  const refuse = (why: string) => invalidField("lifecycleStatus", why);
  if (task.lifecycle_status === "DELETED") throw refuse("a deleted task cannot change status");
  if (target === "DELETED") throw refuse("use DELETE to delete a task");
  if (target === task.lifecycle_status) throw refuse(`the task is already ${target}`);
  if (target === "ARCHIVED") {
    if (jobs.unfinished(task) > 0) throw refuse("a task with unfinished jobs cannot be archived");
    s.repos.tasks.setStatus({ ...task, lifecycle_status: "ARCHIVED", archived_at: now });
  } else {
    s.repos.tasks.setStatus({ ...task, lifecycle_status: "ACTIVE", archived_at: null, last_active_at: now });
  }
  return s.repos.tasks.get(task.id, task.project_id)!;
}

/** Deletes a task (idempotent): cancels its unfinished jobs and releases its storage. */
export function deleteTask(s: Core, jobs: TaskJobs, task: TaskRow): TaskRow {
  if (task.lifecycle_status === "DELETED") return task;
  const now = s.clock.now();
  s.db.transaction(() => markDeleted(s, jobs, task, now))();
  releaseStorage(s, task);
  return s.repos.tasks.get(task.id, task.project_id)!;
}

/** The rows of a deletion (inside the caller's transaction); its storage is released by the caller after commit. */
function markDeleted(s: Core, jobs: TaskJobs, task: TaskRow, now: number): void {
  jobs.cancelAll(task);
  s.repos.tasks.setStatus({ ...task, lifecycle_status: "DELETED", deleted_at: now });
}

/** A deleted task's files: removed once its deletion committed (no rollback could bring files back). */
function releaseStorage(s: Core, task: TaskRow): void {
  s.storage.deleteTaskStorage(task.project_id, task.id);
}

/**
 * Applies the retention policies at the current (virtual) time: archives ACTIVE tasks inactive for longer than
 * `archiveAfter` hours, deletes ARCHIVED tasks archived for longer than `deleteAfter` hours. A task with
 * unfinished jobs is not archived. The rows of a sweep change in one transaction (all or nothing); the storage of
 * deleted tasks, which includes files that no rollback could bring back, is released once it committed. Returns
 * what it did, for logs and tests.
 */
export function enforceRetention(s: Core, jobs: TaskJobs): { archived: string[]; deleted: string[] } {
  const now = s.clock.now();
  const result = { archived: [] as string[], deleted: [] as string[] };
  const policies = s.repos.projects.retentionPolicies();
  const workspacePolicy = new Map(policies.filter((p) => p.scope === "workspace").map((p) => [p.owner_id, p]));
  const projectPolicy = new Map(policies.filter((p) => p.scope === "project").map((p) => [p.owner_id, p]));
  if (policies.length === 0) return result;
  const deleted: TaskRow[] = [];
  s.db.transaction(() => {
    for (const project of s.repos.projects.all()) {
      const policy = projectPolicy.get(project.id) ?? workspacePolicy.get(project.workspace_id);
      if (!policy) continue;
      if (policy.archive_after_hours > 0) {
        for (const task of s.repos.tasks.activeInactiveSince(project.id, now - policy.archive_after_hours * HOUR_MS)) {
          if (jobs.unfinished(task) > 0) continue;
          s.repos.tasks.setStatus({ ...task, lifecycle_status: "ARCHIVED", archived_at: now });
          result.archived.push(task.id);
        }
      }
      if (policy.delete_after_hours > 0) {
        for (const task of s.repos.tasks.archivedSince(project.id, now - policy.delete_after_hours * HOUR_MS)) {
          markDeleted(s, jobs, task, now);
          deleted.push(task);
        }
      }
    }
  })();
  for (const task of deleted) {
    releaseStorage(s, task);
    result.deleted.push(task.id);
  }
  return result;
}
