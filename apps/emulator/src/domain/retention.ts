// Task retention policies (project and workspace) and their enforcement: tasks inactive for `archiveAfter`
// hours are archived, tasks archived for `deleteAfter` hours are deleted. The project policy wins over the
// workspace policy; 0 switches a step off.
import { isoTime } from "../clock.js";
import type { RetentionRow } from "../db/repositories/projects.js";
import type { Core } from "../core.js";

export function projectPolicyView(row: RetentionRow) {
  return {
    projectId: row.owner_id,
    archiveAfter: row.archive_after_hours,
    deleteAfter: row.delete_after_hours,
    createdAt: isoTime(row.created_at),
  };
}

export function workspacePolicyView(row: RetentionRow) {
  return {
    workspaceId: row.owner_id,
    archiveAfter: row.archive_after_hours,
    deleteAfter: row.delete_after_hours,
    createdAt: isoTime(row.created_at),
  };
}

export function putPolicy(
  s: Core,
  scope: RetentionRow["scope"],
  ownerId: string,
  policy: { archiveAfter: number; deleteAfter: number },
): RetentionRow {
  s.repos.projects.putRetention({
    scope,
    owner_id: ownerId,
    archive_after_hours: policy.archiveAfter,
    delete_after_hours: policy.deleteAfter,
    created_at: s.clock.now(),
  });
  return s.repos.projects.retention(scope, ownerId)!;
}
