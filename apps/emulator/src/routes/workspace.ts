// Workspace resource: dimensions, the vCPU limit and the workspace task retention policy.
import { workspaceEnvironments } from "../domain/catalog.js";
import { workspaceLimitView } from "../domain/limits.js";
import { requireAdministrator } from "../domain/permissions.js";
import { putPolicy, workspacePolicyView } from "../domain/retention.js";
import type { AppContext } from "../http/env.js";
import { notFound } from "../http/errors.js";
import type { OperationRegistry } from "../http/router.js";
import { retentionPolicyBody } from "../schemas/projects.js";

/** Only the caller's own workspace is visible; any other id is a 404. */
export function ownWorkspace(c: AppContext) {
  const id = c.req.param("workspaceId");
  const { workspace } = c.var.principal;
  if (id !== workspace.id) throw notFound(`Workspace ${id} does not exist.`);
  return workspace;
}

export function registerWorkspaceRoutes(api: OperationRegistry): void {
  const base = "/htc/workspaces/{workspaceId}";

  api.add({
    operationId: "getWorkspaceDimensions",
    method: "GET",
    path: `${base}/dimensions`,
    handler: (c) => {
      ownWorkspace(c);
      return c.json(workspaceEnvironments);
    },
  });

  api.add({
    operationId: "getWorkspaceLimits",
    method: "GET",
    path: `${base}/limits`,
    handler: (c) => c.json(workspaceLimitView(ownWorkspace(c))),
  });

  api.add({
    operationId: "getWorkspaceTaskRetentionPolicy",
    method: "GET",
    path: `${base}/task-retention-policy`,
    handler: (c) => {
      const workspace = ownWorkspace(c);
      const policy = c.var.services.repos.projects.retention("workspace", workspace.id);
      if (!policy) throw notFound(`Workspace ${workspace.id} has no task retention policy.`);
      return c.json(workspacePolicyView(policy));
    },
  });

  api.add({
    operationId: "putWorkspaceTaskRetentionPolicy",
    method: "PUT",
    path: `${base}/task-retention-policy`,
    body: retentionPolicyBody,
    handler: (c, { body }) => {
      const workspace = ownWorkspace(c);
      requireAdministrator(c.var.principal, "set the workspace's retention policy");
      return c.json(workspacePolicyView(putPolicy(c.var.services, "workspace", workspace.id, body)), 201);
    },
  });
}
