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

/** What a reset removed (the repository's counts, typed by the contract). */
export type ResetResult = adminComponents["schemas"]["ResetResult"];

export async function resetState(s: Core, jobs: JobService, workspaceId?: string): Promise<ResetResult> {
  if (workspaceId !== undefined && !s.repos.identity.workspace(workspaceId)) throw notFound(`Workspace ${workspaceId} does not exist.`);
  const blobs = referencedBlobs(s.db);
  // Synchronous up to the promise: the rows change right below, before anything else runs.
  const drained = jobs.scheduler.controls.discard(workspaceId);
  const removed = s.db.transaction(() =>
    workspaceId === undefined ? resetAll(s) : s.repos.state.resetWorkspace(workspaceId, startLimit(s, workspaceId)),
  )();
  jobs.clearCaches();
  s.tokens.clearCache();
  s.counters.clear(workspaceId);
  await drained;
  await removeUnreferenced(s.storage, s.db, blobs);
  return removed;
}

/** The vCPU limit a workspace starts with: the option's for the default user's workspace, none for others. */
function startLimit(s: Core, workspaceId: string): number | null {
  const first = s.repos.identity.firstUser();
  return first?.workspace_id === workspaceId ? (s.options.workspaceVcpuLimit ?? null) : null;
}

function resetAll(s: Core): ResetResult {
  const user = s.repos.identity.firstUser();
  const removed = s.repos.state.resetAll(
    user && { userId: user.id, workspaceId: user.workspace_id, workspaceLimit: startLimit(s, user.workspace_id) },
  );
  if (s.options.seed) applySeed(s.identity, s.repos.identity, s.options.seed);
  return removed;
}
