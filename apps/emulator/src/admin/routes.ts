// The emulator's admin API (openapi/admin/admin.yaml), under /_emulator/v1: what this emulator is, workspaces,
// users and keys, the clock, job tokens and the retention sweep. Not part of the HTC contract, but served like
// it, through an OperationRegistry: --strict, fault rules and metrics apply to it too. The test controls (fault
// rules, the scheduler, reset, snapshots) are in controls.ts.
import { isoTime } from "../clock.js";
import type { adminComponents } from "../contract-types.js";
import type { Core } from "../core.js";
import type { UserRow, WorkspaceRow } from "../db/repositories/identity.js";
import { newUuid } from "../domain/ids.js";
import { enforceRetention } from "../domain/tasks.js";
import { issueJobTokens } from "../domain/tokens.js";
import { invalidField, notFound } from "../errors.js";
import { API_PREFIX } from "../http/contracts.js";
import type { AdminApi } from "../http/router.js";
import {
  apiKeyCreateBody,
  clockChangeBody,
  jobTokenCreateBody,
  userCreateBody,
  workspaceCreateBody,
  workspaceLimitBody,
} from "../schemas/admin.js";
import { EMULATOR_VERSION } from "../version.js";

type Schemas = adminComponents["schemas"];

function workspaceView(w: WorkspaceRow): Schemas["AdminWorkspace"] {
  return { id: w.id, name: w.name, organizationCode: w.organization_code, vCPUs: w.vcpu_limit, createdAt: isoTime(w.created_at) };
}

function userView(s: Core, u: UserRow): Schemas["AdminUser"] {
  return {
    userId: u.id,
    workspaceId: u.workspace_id,
    email: u.email,
    fullName: u.full_name,
    workspaceAdmin: u.is_workspace_admin === 1,
    organizationAdmin: u.is_organization_admin === 1,
    rescaleAdmin: u.is_rescale_admin === 1,
    apiKeys: s.repos.identity.apiKeysOfUser(u.id),
  };
}

function clockView(s: Core): Schemas["Clock"] {
  return { now: isoTime(s.clock.now()), speed: s.clock.speed };
}

function workspaceOf(s: Core, id: string): WorkspaceRow {
  const workspace = s.repos.identity.workspace(id);
  if (!workspace) throw notFound(`Workspace ${id} does not exist.`);
  return workspace;
}

export function registerAdminRoutes(api: AdminApi): void {
  api.add({
    operationId: "getEmulatorInfo",
    method: "GET",
    path: "/info",
    auth: "none",
    handler: (c) => {
      const s = c.get("core");
      return {
        name: "htc-emulator",
        version: EMULATOR_VERSION,
        baseUrl: `${s.urls.root}${API_PREFIX}`,
        rootUrl: s.urls.root,
        executor: c.get("jobs").executor.name,
        inMemory: s.options.inMemory || !s.options.dataDir,
        now: isoTime(s.clock.now()),
      };
    },
  });

  api.add({
    operationId: "listWorkspaces",
    method: "GET",
    path: "/workspaces",
    auth: "none",
    handler: (c) => c.get("core").repos.identity.workspaces().map(workspaceView),
  });

  api.add({
    operationId: "createWorkspace",
    method: "POST",
    path: "/workspaces",
    status: 201,
    auth: "none",
    body: workspaceCreateBody,
    handler: (c, { body }) =>
      workspaceView(
        c
          .get("core")
          .identity.createWorkspace({ name: body.name, organizationCode: body.organizationCode ?? null, vcpuLimit: body.vCPUs ?? null }),
      ),
  });

  api.add({
    operationId: "setWorkspaceLimit",
    method: "PUT",
    path: "/workspaces/{workspaceId}/limit",
    auth: "none",
    body: workspaceLimitBody,
    handler: (c, { body }) => {
      const s = c.get("core");
      const workspace = workspaceOf(s, c.req.param("workspaceId")!);
      s.repos.identity.setWorkspaceLimit(workspace.id, body.vCPUs, s.clock.now());
      return workspaceView(workspaceOf(s, workspace.id));
    },
  });

  api.add({
    operationId: "listUsers",
    method: "GET",
    path: "/workspaces/{workspaceId}/users",
    auth: "none",
    handler: (c) => {
      const s = c.get("core");
      const workspace = workspaceOf(s, c.req.param("workspaceId")!);
      return s.repos.identity.usersOfWorkspace(workspace.id).map((u) => userView(s, u));
    },
  });

  api.add({
    operationId: "createUser",
    method: "POST",
    path: "/workspaces/{workspaceId}/users",
    status: 201,
    auth: "none",
    body: userCreateBody,
    handler: (c, { body }) => {
      const s = c.get("core");
      const workspace = workspaceOf(s, c.req.param("workspaceId")!);
      if (body.apiKey && s.repos.identity.userByApiKey(body.apiKey)) throw invalidField("apiKey", "is already in use");
      const { user } = s.identity.createUser({ workspaceId: workspace.id, ...body });
      return userView(s, user);
    },
  });

  api.add({
    operationId: "createApiKey",
    method: "POST",
    path: "/users/{userId}/api-keys",
    status: 201,
    auth: "none",
    body: apiKeyCreateBody,
    handler: (c, { body }) => {
      const s = c.get("core");
      const userId = c.req.param("userId")!;
      const apiKey = body?.apiKey;
      const user = s.repos.identity.user(userId);
      if (!user) throw notFound(`User ${userId} does not exist.`);
      if (apiKey && s.repos.identity.userByApiKey(apiKey)) throw invalidField("apiKey", "is already in use");
      return { apiKey: s.identity.createApiKey(user.id, apiKey), userId: user.id };
    },
  });

  api.add({
    operationId: "deleteApiKey",
    method: "DELETE",
    path: "/api-keys/{apiKey}",
    status: 204,
    auth: "none",
    handler: (c) => {
      if (!c.get("core").repos.identity.deleteApiKey(c.req.param("apiKey")!)) throw notFound("No such API key.");
    },
  });

  api.add({
    operationId: "runRetention",
    method: "POST",
    path: "/retention/run",
    auth: "none",
    handler: (c) => enforceRetention(c.get("core"), c.get("jobs")),
  });

  api.add({
    operationId: "getClock",
    method: "GET",
    path: "/clock",
    auth: "none",
    handler: (c) => clockView(c.get("core")),
  });

  api.add({
    operationId: "changeClock",
    method: "POST",
    path: "/clock",
    auth: "none",
    body: clockChangeBody,
    handler: (c, { body }) => {
      const s = c.get("core");
      if (body.advanceSeconds) s.clock.advance(body.advanceSeconds * 1000);
      if (body.speed !== undefined) s.clock.setSpeed(body.speed);
      enforceRetention(s, c.get("jobs"));
      return clockView(s);
    },
  });

  api.add({
    operationId: "createJobToken",
    method: "POST",
    path: "/job-tokens",
    status: 201,
    auth: "none",
    body: jobTokenCreateBody,
    handler: async (c, { body }) => {
      const s = c.get("core");
      const user = s.repos.identity.user(body.userId);
      if (!user) throw notFound(`User ${body.userId} does not exist.`);
      const job = { projectId: body.projectId, taskId: body.taskId, jobId: body.jobId ?? `${newUuid()}:0` };
      return issueJobTokens(s, user, job, Object.fromEntries(body.claims.map((claim) => [claim.name, claim.value])));
    },
  });
}
