// The emulator's admin API (openapi/admin/admin.yaml), under /_emulator/v1. Not part of the HTC contract.
import { Hono } from "hono";
import { z } from "zod";
import { isoTime } from "../clock.js";
import type { UserRow, WorkspaceRow } from "../db/repositories/identity.js";
import { newUuid } from "../domain/ids.js";
import { enforceRetention } from "../domain/tasks.js";
import { issueJobTokens } from "../domain/tokens.js";
import type { AppEnv } from "../http/env.js";
import { invalidField, notFound } from "../http/errors.js";
import { jsonBody } from "../http/validation.js";
import type { Services } from "../services.js";

export const ADMIN_PREFIX = "/_emulator/v1";
export const EMULATOR_VERSION = "0.1.0";

const vcpus = z.number().int().min(0).max(999999).nullable();

const workspaceCreate = z.object({
  name: z.string().min(1),
  organizationCode: z.string().nullable().optional(),
  vCPUs: vcpus.optional(),
});

const userCreate = z.object({
  email: z.string().min(1),
  fullName: z.string().min(1),
  workspaceAdmin: z.boolean().default(false),
  organizationAdmin: z.boolean().default(false),
  rescaleAdmin: z.boolean().default(false),
  apiKey: z.string().min(8).optional(),
});

function workspaceView(w: WorkspaceRow) {
  return { id: w.id, name: w.name, organizationCode: w.organization_code, vCPUs: w.vcpu_limit, createdAt: isoTime(w.created_at) };
}

function userView(s: Services, u: UserRow) {
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

export function adminRoutes(describe: () => { executor: string }): Hono<AppEnv> {
  const admin = new Hono<AppEnv>();
  const workspaceOf = (s: Services, id: string) => {
    const workspace = s.repos.identity.workspace(id);
    if (!workspace) throw notFound(`Workspace ${id} does not exist.`);
    return workspace;
  };

  admin.get("/info", (c) => {
    const s = c.var.services;
    return c.json({
      name: "htc-emulator",
      version: EMULATOR_VERSION,
      baseUrl: `${s.urls.root}/api/v1`,
      rootUrl: s.urls.root,
      executor: describe().executor,
      inMemory: s.options.inMemory || !s.options.dataDir,
      now: isoTime(s.clock.now()),
    });
  });

  admin.get("/workspaces", (c) => c.json(c.var.services.repos.identity.workspaces().map(workspaceView)));

  admin.post("/workspaces", async (c) => {
    const body = await jsonBody(c, workspaceCreate);
    const workspace = c.var.services.identity.createWorkspace({
      name: body.name,
      organizationCode: body.organizationCode ?? null,
      vcpuLimit: body.vCPUs ?? null,
    });
    return c.json(workspaceView(workspace), 201);
  });

  admin.put("/workspaces/:workspaceId/limit", async (c) => {
    const s = c.var.services;
    const body = await jsonBody(c, z.object({ vCPUs: vcpus }));
    const workspace = workspaceOf(s, c.req.param("workspaceId"));
    s.repos.identity.setWorkspaceLimit(workspace.id, body.vCPUs, s.clock.now());
    return c.json(workspaceView(workspaceOf(s, workspace.id)));
  });

  admin.get("/workspaces/:workspaceId/users", (c) => {
    const s = c.var.services;
    const workspace = workspaceOf(s, c.req.param("workspaceId"));
    return c.json(s.repos.identity.usersOfWorkspace(workspace.id).map((u) => userView(s, u)));
  });

  admin.post("/workspaces/:workspaceId/users", async (c) => {
    const s = c.var.services;
    const body = await jsonBody(c, userCreate);
    const workspace = workspaceOf(s, c.req.param("workspaceId"));
    if (body.apiKey && s.repos.identity.userByApiKey(body.apiKey)) throw invalidField("apiKey", "is already in use");
    const { user } = s.identity.createUser({ workspaceId: workspace.id, ...body });
    return c.json(userView(s, user), 201);
  });

  admin.post("/users/:userId/api-keys", async (c) => {
    const s = c.var.services;
    const body = (await jsonBody(c, z.object({ apiKey: z.string().min(8).optional() }).optional())) ?? {};
    const user = s.repos.identity.user(c.req.param("userId"));
    if (!user) throw notFound(`User ${c.req.param("userId")} does not exist.`);
    if (body.apiKey && s.repos.identity.userByApiKey(body.apiKey)) throw invalidField("apiKey", "is already in use");
    return c.json({ apiKey: s.identity.createApiKey(user.id, body.apiKey), userId: user.id }, 201);
  });

  admin.delete("/api-keys/:apiKey", (c) => {
    if (!c.var.services.repos.identity.deleteApiKey(c.req.param("apiKey"))) throw notFound("No such API key.");
    return c.body(null, 204);
  });

  admin.post("/retention/run", (c) => c.json(enforceRetention(c.var.services)));

  const clockView = (s: Services) => ({ now: isoTime(s.clock.now()), speed: s.clock.speed });

  admin.get("/clock", (c) => c.json(clockView(c.var.services)));

  admin.post("/clock", async (c) => {
    const s = c.var.services;
    const body = await jsonBody(c, z.object({ advanceSeconds: z.number().min(0).optional(), speed: z.number().positive().optional() }));
    if (body.advanceSeconds) s.clock.advance(body.advanceSeconds * 1000);
    if (body.speed !== undefined) s.clock.setSpeed(body.speed);
    enforceRetention(s);
    return c.json(clockView(s));
  });

  admin.post("/job-tokens", async (c) => {
    const s = c.var.services;
    const body = await jsonBody(
      c,
      z.object({
        userId: z.string(),
        projectId: z.string(),
        taskId: z.string(),
        jobId: z.string().optional(),
        claims: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
      }),
    );
    const user = s.repos.identity.user(body.userId);
    if (!user) throw notFound(`User ${body.userId} does not exist.`);
    const tokens = await issueJobTokens(s, user, {
      projectId: body.projectId,
      taskId: body.taskId,
      jobId: body.jobId ?? `${newUuid()}:0`,
    }, Object.fromEntries(body.claims.map((claim) => [claim.name, claim.value])));
    return c.json(tokens, 201);
  });

  return admin;
}
