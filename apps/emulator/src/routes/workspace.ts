// Workspace resource: dimensions, the vCPU limit and the workspace task retention policy.
import { workspaceEnvironments } from "../domain/catalog.js";
import { workspaceLimitView } from "../domain/limits.js";
import { requireAdministrator } from "../domain/permissions.js";
import { putPolicy, workspacePolicyView } from "../domain/retention.js";
import type { AppContext } from "../http/env.js";
import { notFound } from "../errors.js";
import type { HtcApi } from "../http/router.js";
import { retentionPolicyBody } from "../schemas/projects.js";

/** Only the caller's own workspace is visible; any other id is a 404. */
export function ownWorkspace(c: AppContext) {
  const id = c.req.param("workspaceId");
  const { workspace } = c.get("principal");
  if (id !== workspace.id) throw notFound(`Workspace ${id} does not exist.`);
  return workspace;
}

export function registerWorkspaceRoutes(api: HtcApi): void {
  const base = "/htc/workspaces/{workspaceId}";

  api.add({
    operationId: "getWorkspaceDimensions",
    method: "GET",
    path: `${base}/dimensions`,
    handler: (c) => {
      ownWorkspace(c);
      return workspaceEnvironments;
    },
  });

  api.add({
    operationId: "getWorkspaceLimits",
    method: "GET",
    path: `${base}/limits`,
    handler: (c) => workspaceLimitView(ownWorkspace(c)),
  });

  api.add({
    operationId: "getWorkspaceTaskRetentionPolicy",
    method: "GET",
    path: `${base}/task-retention-policy`,
    handler: (c) => {
      const workspace = ownWorkspace(c);
      const policy = c.get("core").repos.projects.retention("workspace", workspace.id);
      if (!policy) throw notFound(`Workspace ${workspace.id} has no task retention policy.`);
      return workspacePolicyView(policy);
    },
  });

  api.add({
    operationId: "putWorkspaceTaskRetentionPolicy",
    status: 201,
    method: "PUT",
    path: `${base}/task-retention-policy`,
    body: retentionPolicyBody,
    handler: (c, { body }) => {
      const workspace = ownWorkspace(c);
      requireAdministrator(c.get("principal"), "set the workspace's retention policy");
      return workspacePolicyView(putPolicy(c.get("core"), "workspace", workspace.id, body));
    },
  });
}
