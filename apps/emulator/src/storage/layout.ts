// Where stored objects live, in one place: production's layout. Every enabled region has one bucket
// (`storageNameOf`); a project owns the folder `projects/<projectId>/` in each, with its shared folder `shared/`
// and one folder per task, `tasks/<taskId>/`. The emulator's S3-compatible endpoint serves every bucket
// path-style under S3_PREFIX of its own port: `<root>/s3/<bucket>/<key>`.
import { regionCatalog } from "../domain/catalog.js";

/** Where the S3-compatible endpoint is mounted on the emulator's port. */
export const S3_PREFIX = "/s3";

/** The bucket that backs storage in a region. */
export function storageNameOf(region: string): string {
  return `htc-storage-${region.toLowerCase().replace(/_/g, "-")}`;
}

/** Every bucket: one per enabled region. */
export const allBuckets: ReadonlySet<string> = new Set(regionCatalog.filter((r) => r.enabled).map((r) => storageNameOf(r.region)));

/** A project's folder in every bucket (`HTCProject.projectFolderPath`). */
export function projectFolderPath(projectId: string): string {
  return `projects/${projectId}/`;
}

/** A task's folder as `HTCTask.taskFolderPath` names it (no trailing slash). */
export function taskFolderPath(projectId: string, taskId: string): string {
  return `${projectFolderPath(projectId)}tasks/${taskId}`;
}

/** The key prefix (folder) of a task (`projects/<p>/tasks/<t>/`), or of the project's shared folder (task null). */
export function scopePrefix(scope: { projectId: string; taskId: string | null }): string {
  return scope.taskId ? `${taskFolderPath(scope.projectId, scope.taskId)}/` : `${projectFolderPath(scope.projectId)}shared/`;
}

/** The bucket a scope (credentials of one region) addresses. */
export function scopeBucket(scope: { region: string }): string {
  return storageNameOf(scope.region);
}

export function s3Uri(bucket: string, prefix: string): string {
  return `s3://${bucket}/${prefix}`;
}
