// The emulator's core as a user meets it: a separate process, the typed client, every exchange checked against
// the contract (client side by validatingFetch, server side by --strict).
import { collect, HtcApiError, paginate } from "@htcemu/client";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { bearerFor, contractClient, http, secondWorkspace, startTestEmulator, sent } from "./helpers.js";

let emulator: SpawnedEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator?.stop();
});

const json = (body: unknown, token: string, method = "POST"): RequestInit => ({
  method,
  headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify(body),
});

describe("tokens and identity", () => {
  it("exchanges the API key for an RS256 JWT that the published JWKS verifies, with the reference's claims", async () => {
    const { status, body } = await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Token ${emulator.apiKey}` } });
    expect(status).toBe(200);
    const { tokenValue, expiresIn } = body as { tokenValue: string; expiresIn: number };
    expect(expiresIn).toBe(21600);
    const jwks = (await http(`${emulator.rootUrl}/.well-known/jwks.json`)).body as { keys: { kid: string }[] };
    const { payload, protectedHeader } = await jwtVerify(tokenValue, createLocalJWKSet(jwks as never));
    expect(protectedHeader.alg).toBe("RS256");
    expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid);
    for (const claim of ["userFullName", "userEmail", "workspaceName", "workspaceId", "organizationCode", "groups", "sub", "exp"]) {
      expect(payload).toHaveProperty(claim);
    }
    // The same document under the API prefix, as the Python client fetches it.
    expect((await http(`${emulator.baseUrl}/.well-known/jwks.json`)).body).toEqual(jwks);
  });

  it("answers the tutorial's root alias of GET /auth/token", async () => {
    const { status } = await http(`${emulator.rootUrl}/auth/token`, { headers: { Authorization: `Token ${emulator.apiKey}` } });
    expect(status).toBe(200);
  });

  it("describes the key's owner and the token's claims", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const whoami = await sent(client.api.GET("/auth/whoami"));
    expect(whoami.user.workspace.id).toMatch(/^\d{2}-\d{7}$/);
    expect(whoami.user.isWorkspaceAdmin).toBe(true);
    const claims = await sent(client.api.GET("/auth/token/whoami"));
    expect(claims.workspaceId).toBe(whoami.user.workspace.id);
    expect(claims.userEmail).toBe(whoami.user.email);
  });

  it("refuses missing, malformed, foreign and wrong-scheme credentials with 401", async () => {
    const url = `${emulator.baseUrl}/htc/projects`;
    expect((await http(url)).status).toBe(401);
    expect((await http(url, { headers: { Authorization: "Bearer not.a.jwt" } })).status).toBe(401);
    expect((await http(url, { headers: { Authorization: `Token ${emulator.apiKey}` } })).status).toBe(401);
    const other = await startTestEmulator();
    try {
      const foreign = await bearerFor(other, other.apiKey);
      const { status, body } = await http(url, { headers: { Authorization: `Bearer ${foreign}` } });
      expect(status).toBe(401);
      expect(body).toMatchObject({ error: "invalid_token" });
    } finally {
      await other.stop();
    }
    expect((await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: "Token wrong-key-000" } })).status).toBe(401);
  });

  it("issues OAuth2 tokens for the client-credentials grant", async () => {
    const ok = await http(`${emulator.baseUrl}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=client_credentials&client_secret=${emulator.apiKey}`,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: "Bearer", expires_in: 21600 });
    const bad = await http(`${emulator.baseUrl}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=password",
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "unsupported_grant_type" });
  });

  it("expires tokens by the emulator's clock, and the client refreshes once on a 401", async () => {
    const token = await bearerFor(emulator, emulator.apiKey);
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    await sent(client.api.GET("/htc/projects"));
    await http(`${emulator.rootUrl}/_emulator/v1/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advanceSeconds: 7 * 3600 }),
    });
    const expired = await http(`${emulator.baseUrl}/htc/projects`, { headers: { Authorization: `Bearer ${token}` } });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ errorDescription: expect.stringMatching(/expired/) });
    // The client's cached token is expired on the server too: it must refresh and replay.
    await sent(client.api.GET("/htc/projects"));
  });

  it("gives job tokens a reduced scope: their own project and task only, 403 elsewhere", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const project = await sent(client.api.POST("/htc/projects", { body: { projectName: "scope", projectDescription: "" } }));
    const task = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId: project.projectId } },
        body: { taskName: "t", taskDescription: "" },
      }),
    );
    const whoami = await sent(client.api.GET("/auth/whoami"));
    const minted = await http(`${emulator.rootUrl}/_emulator/v1/job-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        userId: whoami.user.userId,
        projectId: project.projectId,
        taskId: task.taskId,
        claims: [{ name: "stage", value: "a" }],
      }),
    });
    const { bearerToken, refreshToken } = minted.body as { bearerToken: string; refreshToken: string };
    const job = contractClient(emulator, { bearerToken });
    const own = await sent(
      job.api.GET("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: { projectId: project.projectId, taskId: task.taskId } } }),
    );
    expect(own.taskId).toBe(task.taskId);
    const claims = await sent(job.api.GET("/auth/token/whoami"));
    expect(claims["userDefined_stage"]).toBe("a");
    const refused = await job.api.POST("/htc/projects", { body: { projectName: "x", projectDescription: "" } });
    expect(refused.response.status).toBe(403);
    const other = await sent(client.api.POST("/htc/projects", { body: { projectName: "other", projectDescription: "" } }));
    const foreignProject = await job.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: other.projectId } } });
    expect(foreignProject.response.status).toBe(403);
    // The refresh token is exchanged for a new job token with the same scope.
    const refreshed = await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Refresh ${refreshToken}` } });
    expect(refreshed.status).toBe(200);
    const again = await http(`${emulator.baseUrl}/htc/projects`, {
      headers: { Authorization: `Bearer ${(refreshed.body as { tokenValue: string }).tokenValue}` },
    });
    expect(again.status).toBe(403);
  });
});

describe("projects", () => {
  it("creates, reads and extends projects with the reference's fields", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const created = await sent(
      client.api.POST("/htc/projects", { body: { projectName: "demo", projectDescription: "first", regions: ["AWS_EU_WEST_1"] } }),
    );
    expect(created.projectId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.containerRegistry).toMatch(/\/$/);
    expect(created.projectFolderPath).toBe(`projects/${created.projectId}/`);
    expect(created.regionSettings).toEqual([
      { computeSettings: { computeRegion: "AWS_EU_WEST_1" }, storageSettings: { storageRegion: "AWS_EU_WEST_1" } },
    ]);
    const fetched = await sent(client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: created.projectId } } }));
    expect(fetched).toEqual(created);
    const patched = await sent(
      client.api.PATCH("/htc/projects/{projectId}", {
        params: { path: { projectId: created.projectId } },
        body: { regions: ["GCP_EU_WEST_4", "AWS_EU_WEST_1"] },
      }),
    );
    expect(patched.regions).toEqual(["AWS_EU_WEST_1", "GCP_EU_WEST_4"]);
  });

  it("counts a region listed twice once, and stores a region setting without a storage region where it computes", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const created = await sent(
      client.api.POST("/htc/projects", {
        body: {
          projectName: "settings",
          projectDescription: "",
          regions: ["AWS_EU_WEST_1", "GCP_EU_WEST_4", "AWS_EU_WEST_1"],
          regionSettings: [{ computeSettings: { computeRegion: "GCP_EU_WEST_4" }, storageSettings: {} }],
        },
      }),
    );
    expect(created.regions).toEqual(["AWS_EU_WEST_1", "GCP_EU_WEST_4"]);
    expect(created.regionSettings).toEqual([
      { computeSettings: { computeRegion: "AWS_EU_WEST_1" }, storageSettings: { storageRegion: "AWS_EU_WEST_1" } },
      { computeSettings: { computeRegion: "GCP_EU_WEST_4" }, storageSettings: { storageRegion: "GCP_EU_WEST_4" } },
    ]);
    // A setting that does not say where it computes means nothing: 400 naming the member.
    const token = await bearerFor(emulator, emulator.apiKey);
    const refused = await http(`${emulator.baseUrl}/htc/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        projectName: "x",
        projectDescription: "",
        regionSettings: [{ computeSettings: {}, storageSettings: { storageRegion: "AWS_US_WEST_2" } }],
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ errorDescription: expect.stringMatching(/^regionSettings\[0\]\.computeSettings\.computeRegion/) });
  });

  it("names the offending field in a 400 and leaves nothing behind", async () => {
    const token = await bearerFor(emulator, emulator.apiKey);
    const before = (await http(`${emulator.baseUrl}/htc/projects?pageSize=10000`, { headers: { Authorization: `Bearer ${token}` } }))
      .body as { items: unknown[] };
    const cases: [unknown, string][] = [
      [{ projectDescription: "x" }, "projectName"],
      [{ projectName: 1, projectDescription: "x" }, "projectName"],
      [{ projectName: "a", projectDescription: "x", regions: ["MARS_1"] }, "regions[0]"],
      [{ projectName: "a", projectDescription: "x", regions: ["RC_ICELAND_1"] }, "regions[0]"],
      [[], "(body)"],
    ];
    for (const [body, field] of cases) {
      const { status, body: error } = await http(`${emulator.baseUrl}/htc/projects`, json(body, token));
      expect(status, JSON.stringify(body)).toBe(400);
      expect((error as { errorDescription: string }).errorDescription.startsWith(field), JSON.stringify(error)).toBe(true);
    }
    const malformed = await http(`${emulator.baseUrl}/htc/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    const after = (await http(`${emulator.baseUrl}/htc/projects?pageSize=10000`, { headers: { Authorization: `Bearer ${token}` } }))
      .body as { items: unknown[] };
    expect(after.items.length).toBe(before.items.length);
  });

  it("pages with absolute next links that every client style can follow, stable under inserts", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const token = await bearerFor(emulator, emulator.apiKey);
    for (let i = 0; i < 7; i++)
      await sent(client.api.POST("/htc/projects", { body: { projectName: `page-${i}`, projectDescription: "" } }));
    const all = await collect(paginate(client, "/htc/projects", {}, { pageSize: 3 }), { limit: 10_000 });
    const names = all.map((p) => p.projectName);
    expect(names.filter((n) => n.startsWith("page-"))).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4", "page-5", "page-6"]);
    // The tutorial's way: GET `next` verbatim with only the Authorization header.
    let url: string | undefined = `${emulator.baseUrl}/htc/projects?pageSize=3&onlyMyProjects=true`;
    const seen: string[] = [];
    let inserted = false;
    while (url) {
      expect(url.startsWith(emulator.rootUrl)).toBe(true);
      const page = (await http(url, { headers: { Authorization: `Bearer ${token}` } })).body as {
        items: { projectName: string }[];
        next?: string;
      };
      seen.push(...page.items.map((p) => p.projectName));
      if (page.next) expect(new URL(page.next).searchParams.get("onlyMyProjects")).toBe("true");
      if (!inserted) {
        // A project created mid-way appears at the end, and no page boundary shifts.
        await sent(client.api.POST("/htc/projects", { body: { projectName: "late", projectDescription: "" } }));
        inserted = true;
      }
      expect("next" in page ? typeof page.next : "absent").not.toBe("object");
      url = page.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe("late");
    const bad = await http(`${emulator.baseUrl}/htc/projects?pageIndex=garbage`, { headers: { Authorization: `Bearer ${token}` } });
    expect(bad.status).toBe(400);
    expect((bad.body as { errorDescription: string }).errorDescription).toMatch(/^pageIndex/);
  });

  it("keeps limits (one per role, min with the workspace), dimensions and retention policies", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const { projectId } = await sent(client.api.POST("/htc/projects", { body: { projectName: "limits", projectDescription: "" } }));
    const path = { params: { path: { projectId } } };
    const first = await sent(
      client.api.POST("/htc/projects/{projectId}/limits", { ...path, body: { vCPUs: 32, modifierRole: "PROJECT_ADMIN" } }),
    );
    const replaced = await sent(
      client.api.POST("/htc/projects/{projectId}/limits", { ...path, body: { vCPUs: 16, modifierRole: "PROJECT_ADMIN" } }),
    );
    expect(replaced.id).toBe(first.id);
    expect(replaced.vCPUs).toBe(16);
    await sent(client.api.POST("/htc/projects/{projectId}/limits", { ...path, body: { vCPUs: 8, modifierRole: "WORKSPACE_ADMIN" } }));
    expect(await sent(client.api.GET("/htc/projects/{projectId}/limits", path))).toHaveLength(2);
    const patched = await sent(
      client.api.PATCH("/htc/projects/{projectId}/limits/{id}", { params: { path: { projectId, id: first.id } }, body: { vCPUs: 4 } }),
    );
    expect(patched.vCPUs).toBe(4);
    const metrics = await client.api.GET("/htc/metrics", { parseAs: "text" });
    expect(metrics.data).toContain(`htc_job_limit_vcpus{project_name="limits",project_id="${projectId}"} 4`);
    const missing = await client.api.GET("/htc/projects/{projectId}/limits/{id}", { params: { path: { projectId, id: 999999 } } });
    expect(missing.response.status).toBe(404);
    await client.api.DELETE("/htc/projects/{projectId}/limits", path);
    expect(await sent(client.api.GET("/htc/projects/{projectId}/limits", path))).toEqual([]);

    const dims = await sent(
      client.api.PUT("/htc/projects/{projectId}/dimensions", {
        ...path,
        body: [{ machineType: "t2d-standard-16", priority: "ON_DEMAND_PRIORITY", region: "GCP_EU_WEST_4" }],
      }),
    );
    expect(dims[0]).toMatchObject({ derived: { architecture: "X86", vCPUs: 16 }, computeScalingPolicy: "BALANCED" });
    const wrong = await client.api.PUT("/htc/projects/{projectId}/dimensions", {
      ...path,
      body: [{ machineType: "nope", priority: "ON_DEMAND_PRIORITY", region: "GCP_EU_WEST_4" }],
    });
    expect(wrong.response.status).toBe(400);
    // Upstream requires none of an entry's members, and neither does the contract; an entry that names no
    // environment answers 400 naming the missing member. An AWS environment has no scaling policy: null.
    const token = await bearerFor(emulator, emulator.apiKey);
    const put = (body: unknown) =>
      http(`${emulator.baseUrl}/htc/projects/${projectId}/dimensions`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const [entry, member] of [
      [{ priority: "ON_DEMAND_PRIORITY", region: "AWS_US_WEST_2" }, "machineType"],
      [{ machineType: "c6i.xlarge", region: "AWS_US_WEST_2" }, "priority"],
      [{ machineType: "c6i.xlarge", priority: "ON_DEMAND_PRIORITY" }, "region"],
    ] as const) {
      const refused = await put([entry]);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({
        errorType: "VALIDATION_ERROR",
        errorDescription: expect.stringMatching(new RegExp(`^\\[0\\]\\.${member}`)),
      });
    }
    const aws = await sent(
      client.api.PUT("/htc/projects/{projectId}/dimensions", {
        ...path,
        body: [{ machineType: "c6i.xlarge", priority: "ON_DEMAND_ECONOMY", region: "AWS_US_WEST_2", computeScalingPolicy: null }],
      }),
    );
    expect(aws[0]).toMatchObject({ computeScalingPolicy: null, hyperthreading: false, derived: { swap: null } });

    // Limit ids are any int32 in the contract; one that no limit has is a 404.
    expect(
      (await client.api.GET("/htc/projects/{projectId}/limits/{id}", { params: { path: { projectId, id: 0 } } })).response.status,
    ).toBe(404);

    const noPolicy = await client.api.GET("/htc/projects/{projectId}/task-retention-policy", path);
    expect(noPolicy.response.status).toBe(404);
    const policy = await sent(
      client.api.PUT("/htc/projects/{projectId}/task-retention-policy", { ...path, body: { archiveAfter: 1, deleteAfter: 2 } }),
    );
    expect(policy).toMatchObject({ projectId, archiveAfter: 1, deleteAfter: 2 });
  });
});

describe("tasks and retention", () => {
  it("archives, reactivates and deletes tasks by the lifecycle rules", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const { projectId } = await sent(client.api.POST("/htc/projects", { body: { projectName: "tasks", projectDescription: "" } }));
    const task = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: "t", taskDescription: "" } }),
    );
    expect(task).toMatchObject({
      lifecycleStatus: "ACTIVE",
      archivedAt: null,
      deletedAt: null,
      taskFolderPath: `projects/${projectId}/tasks/${task.taskId}`,
    });
    const at = { params: { path: { projectId, taskId: task.taskId } } };
    const archived = await sent(
      client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", { ...at, body: { lifecycleStatus: "ARCHIVED" } }),
    );
    expect(archived.archivedAt).not.toBeNull();
    const again = await client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", { ...at, body: { lifecycleStatus: "ARCHIVED" } });
    expect(again.response.status).toBe(400);
    expect(again.error).toMatchObject({ errorType: "VALIDATION_ERROR", errorDescription: expect.stringMatching(/^lifecycleStatus/) });
    await sent(client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", { ...at, body: { lifecycleStatus: "ACTIVE" } }));
    const deleted = await sent(client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", at));
    expect(deleted.lifecycleStatus).toBe("DELETED");
    const twice = await sent(client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", at));
    expect(twice.deletedAt).toBe(deleted.deletedAt);
    const revive = await client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", { ...at, body: { lifecycleStatus: "ACTIVE" } });
    expect(revive.response.status).toBe(400);
  });

  it("archives and deletes tasks when the clock passes the retention policy", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const { projectId } = await sent(client.api.POST("/htc/projects", { body: { projectName: "retention", projectDescription: "" } }));
    const p = { params: { path: { projectId } } };
    await sent(client.api.PUT("/htc/projects/{projectId}/task-retention-policy", { ...p, body: { archiveAfter: 2, deleteAfter: 24 } }));
    const task = await sent(client.api.POST("/htc/projects/{projectId}/tasks", { ...p, body: { taskName: "old", taskDescription: "" } }));
    const at = { params: { path: { projectId, taskId: task.taskId } } };
    const advance = (hours: number) =>
      http(`${emulator.rootUrl}/_emulator/v1/clock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ advanceSeconds: hours * 3600 }),
      });
    await advance(1);
    expect((await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}", at))).lifecycleStatus).toBe("ACTIVE");
    await advance(1.5);
    expect((await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}", at))).lifecycleStatus).toBe("ARCHIVED");
    await advance(25);
    expect((await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}", at))).lifecycleStatus).toBe("DELETED");
  });
});

describe("workspaces", () => {
  it("keeps workspaces apart: another workspace's resources are 404, never visible", async () => {
    const mine = contractClient(emulator, { apiKey: emulator.apiKey });
    const other = await secondWorkspace(emulator);
    const theirs = contractClient(emulator, { apiKey: other.apiKey });
    const project = await sent(mine.api.POST("/htc/projects", { body: { projectName: "private", projectDescription: "" } }));
    const task = await sent(
      mine.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId: project.projectId } },
        body: { taskName: "t", taskDescription: "" },
      }),
    );
    const listed = await collect(paginate(theirs, "/htc/projects", {}), { limit: 1000 });
    expect(listed.map((p) => p.projectId)).not.toContain(project.projectId);
    for (const attempt of [
      theirs.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: project.projectId } } }),
      theirs.api.GET("/htc/projects/{projectId}/tasks/{taskId}", {
        params: { path: { projectId: project.projectId, taskId: task.taskId } },
      }),
      theirs.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", {
        params: { path: { projectId: project.projectId, taskId: task.taskId } },
      }),
      theirs.api.GET("/htc/workspaces/{workspaceId}/dimensions", {
        params: { path: { workspaceId: (await sent(mine.api.GET("/auth/whoami"))).user.workspace.id } },
      }),
    ]) {
      expect((await attempt).response.status).toBe(404);
    }
    // Non-admin users may not change workspace settings.
    const ws = await theirs.api.PUT("/htc/workspaces/{workspaceId}/task-retention-policy", {
      params: { path: { workspaceId: other.workspaceId } },
      body: { archiveAfter: 1, deleteAfter: 1 },
    });
    expect(ws.response.status).toBe(403);
    expect(ws.error).toBeDefined();
  });

  it("serves the catalogues: regions as an array, storages, GCP clusters, workspace limits", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const regions = await sent(client.api.GET("/htc/regions", { params: { query: { cloudProvider: "GCP", enabled: true } } }));
    expect(regions.length).toBeGreaterThan(0);
    expect(regions.every((r) => r.cloudProvider === "GCP" && r.enabled)).toBe(true);
    const region = await sent(client.api.GET("/htc/regions/{region}", { params: { path: { region: "AWS_US_WEST_2" } } }));
    expect(region.supportedArchitectures).toContain("AARCH64");
    const storages = await sent(client.api.GET("/htc/storage"));
    expect(storages.length).toBe(
      regions.length + (await sent(client.api.GET("/htc/regions", { params: { query: { cloudProvider: "AWS", enabled: true } } }))).length,
    );
    const workspaceId = (await sent(client.api.GET("/auth/whoami"))).user.workspace.id;
    const clusters = await sent(client.api.GET("/htc/gcp/clusters/{workspaceId}", { params: { path: { workspaceId } } }));
    expect(clusters.clusters.length).toBe(regions.length);
    const limit = await client.api.GET("/htc/workspaces/{workspaceId}/limits", { params: { path: { workspaceId } } });
    expect(limit.response.status).toBe(404);
    const dims = await sent(client.api.GET("/htc/workspaces/{workspaceId}/dimensions", { params: { path: { workspaceId } } }));
    expect(dims.length).toBeGreaterThan(0);
  });
});

describe("errors", () => {
  it("maps unknown ids to 404 in the declared shapes", async () => {
    const client = contractClient(emulator, { apiKey: emulator.apiKey });
    const res = await client.api.GET("/htc/projects/{projectId}", {
      params: { path: { projectId: "00000000-0000-0000-0000-000000000000" } },
    });
    expect(res.response.status).toBe(404);
    expect(res.error).toMatchObject({ error: "not_found" });
    try {
      await sent(client.api.GET("/htc/projects/{projectId}/tasks", { params: { path: { projectId: "nope" } } }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HtcApiError);
      expect((error as HtcApiError).status).toBe(404);
    }
  });
});
