// Every operation of the contract with real requests, through the public client only; each request and each
// response (status, content type, required fields, enums, nullability, formats) is validated against openapi/
// by validatingFetch, which throws on any violation. Runs against a fresh emulator (--strict, simulated jobs)
// or against HTC_CONTRACT_BASE_URL (see the README): there, steps that write are marked destructive and need
// HTC_CONTRACT_ALLOW_WRITES=1, and whatever they create or change is deleted or restored afterwards.
import { collect, type HtcClient, isTerminalStatus, paginate, requireMember, unwrap, waitForGroup } from "@htcemu/client";
import type { components } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUSH_SOURCE_IMAGE, pushImage, pushUnavailable } from "../src/docker.js";
import { checkedFetch, contract, coverageReport, heldToAlwaysSend, newCoverage, suiteClient } from "../src/harness.js";
import { IN_FLIGHT_OPERATIONS, type ServedSet, servedOperations } from "../src/served.js";
import { resolveTarget, type Target, writesRefused } from "../src/target.js";

type Schemas = components["schemas"];

const coverage = newCoverage();
/** Operations deliberately not exercised against this target, with the reason (printed with the coverage). */
const skipped = new Map<string, string>();
/** Operations that cannot answer 2xx here (a tool is missing), with the reason. */
const noSuccess = new Map<string, string>();
/** Undo steps for what the suite created or changed, run last-in first-out. */
const cleanups: { what: string; run: () => Promise<unknown> }[] = [];

let target: Target;
let client: HtcClient;
let served: ServedSet;

const ctx: {
  workspaceId?: string;
  projectId?: string;
  region?: string;
  enabledRegions: string[];
  taskId?: string;
  jobId?: string;
  limitId?: number;
  ownProject: boolean;
  ownTask: boolean;
} = { enabledRegions: [], ownProject: false, ownTask: false };

/** Marks operations as not exercised here and tells why; returns true when the step must not run. */
function skip(operationIds: string[], reason: string | undefined): boolean {
  if (!reason) return false;
  for (const id of operationIds) if (!skipped.has(id)) skipped.set(id, reason);
  console.info(`[contract-tests] ${operationIds.join(", ")}: ${reason}`);
  return true;
}

/** A destructive step: runs against the emulator, and against other targets only with HTC_CONTRACT_ALLOW_WRITES=1. */
function destructive(operationIds: string[]): boolean {
  return skip(operationIds, writesRefused(target));
}

function needProject(operationIds: string[]): boolean {
  return skip(operationIds, ctx.projectId ? undefined : "no project to work in (none found, and creating one is a destructive step)");
}

function needTask(operationIds: string[]): boolean {
  return skip(operationIds, ctx.taskId ? undefined : "no task to work in (none found, and creating one is a destructive step)");
}

const projectPath = () => ({ params: { path: { projectId: ctx.projectId! } } });
const taskPath = () => ({ params: { path: { projectId: ctx.projectId!, taskId: ctx.taskId! } } });

beforeAll(async () => {
  // A workspace limit makes getWorkspaceLimits answer 200 (unlimited workspaces answer 404, also valid).
  target = await resolveTarget({ args: ["--workspace-vcpu-limit", "10000", "--registry-ready-delay", "0"] });
  console.info(`[contract-tests] target: ${target.label}${target.allowWrites ? "" : " (read-only: destructive steps are skipped)"}`);
  client = suiteClient(target, { coverage });
  served = await servedOperations(contract, target);
  if (served.notServed.length > 0) console.info(`[contract-tests] not served by the target yet: ${served.notServed.join(", ")}`);
}, 90_000);

afterAll(async () => {
  const failures: string[] = [];
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup.run();
    } catch (error) {
      failures.push(`${cleanup.what}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) console.error(`[contract-tests] clean-up failed:\n  ${failures.join("\n  ")}`);
  if (served) console.info(`[contract-tests] ${coverageReport(coverage, served.served, served.notServed, skipped)}`);
  await target?.stop();
}, 120_000);

describe("tokens and identity", () => {
  it("getJwks: the public keys, without credentials", async () => {
    const anonymous = suiteClient(target, { coverage, auth: "none" });
    const jwks = await unwrap(anonymous.api.GET("/.well-known/jwks.json"));
    expect(jwks.keys.length).toBeGreaterThan(0);
  });

  it("getToken: exchanges the API key for a bearer token", async () => {
    const token = await unwrap(
      client.api.GET("/auth/token", { headers: { Authorization: `Token ${target.apiKey}`, "X-Rescale-Environment": "prod" } }),
    );
    expect(token.tokenValue?.split(".")).toHaveLength(3);
    expect(token.expiresIn).toBeGreaterThan(0);
    // A bad key is refused with the contract's 401 body.
    const refused = await client.api.GET("/auth/token", { headers: { Authorization: "Token not-a-key" } });
    expect(refused.response.status).toBe(401);
  });

  it("whoAmI and getTokenWhoAmI describe the same user and workspace", async () => {
    const whoami = await unwrap(client.api.GET("/auth/whoami"));
    ctx.workspaceId = requireMember(requireMember(requireMember(whoami, "user"), "workspace"), "id");
    const claims = await unwrap(client.api.GET("/auth/token/whoami"));
    expect(claims.workspaceId).toBe(ctx.workspaceId);
    expect(claims.userEmail).toBe(whoami.user?.email);
  });

  it("createOAuth2Token: the client-credentials grant", async () => {
    const anonymous = suiteClient(target, { coverage, auth: "none" });
    const result = await anonymous.api.POST("/oauth2/token", {
      body: { grant_type: "client_credentials", client_secret: target.apiKey },
      bodySerializer: (body) => new URLSearchParams(body as unknown as Record<string, string>).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    if (target.kind === "emulator") expect(result.data).toMatchObject({ token_type: "Bearer" });
    const refused = await anonymous.api.POST("/oauth2/token", {
      body: { grant_type: "client_credentials" },
      bodySerializer: (body) => new URLSearchParams(body as unknown as Record<string, string>).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(refused.response.status).toBe(400);
  });
});

describe("catalogues, metrics and the workspace", () => {
  it("getRegions (with filters) and getRegion", async () => {
    const all = await unwrap(client.api.GET("/htc/regions"));
    expect(all.length).toBeGreaterThan(0);
    const enabled = await unwrap(client.api.GET("/htc/regions", { params: { query: { enabled: true, cloudProvider: "AWS" } } }));
    expect(enabled.every((r) => r.cloudProvider === "AWS")).toBe(true);
    const enabledAll = await unwrap(client.api.GET("/htc/regions", { params: { query: { enabled: true } } }));
    ctx.enabledRegions = enabledAll.map((r) => requireMember(r, "region", "a region of GET /htc/regions"));
    const one = await unwrap(
      client.api.GET("/htc/regions/{region}", { params: { path: { region: all[0]!.region as Schemas["SupportedRescaleRegion"] } } }),
    );
    expect(one.region).toBe(all[0]!.region);
  });

  it("getStorages and getStorageForRegion", async () => {
    const storages = await unwrap(client.api.GET("/htc/storage"));
    expect(storages.length).toBeGreaterThan(0);
    const region = storages[0]!.region as Schemas["SupportedRescaleRegion"];
    const one = await unwrap(client.api.GET("/htc/storage/region/{region}", { params: { path: { region } } }));
    expect(one.region).toBe(region);
  });

  it("getGCPClusters", async () => {
    const clusters = await client.api.GET("/htc/gcp/clusters/{workspaceId}", { params: { path: { workspaceId: ctx.workspaceId! } } });
    expect([200, 404]).toContain(clusters.response.status);
  });

  it("getMetrics: Prometheus text", async () => {
    const metrics = await client.api.GET("/htc/metrics", { parseAs: "text" });
    expect(metrics.response.status).toBe(200);
    expect(metrics.response.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it("getWorkspaceDimensions and getWorkspaceLimits", async () => {
    const path = { params: { path: { workspaceId: ctx.workspaceId! } } };
    await unwrap(client.api.GET("/htc/workspaces/{workspaceId}/dimensions", path));
    const limits = await client.api.GET("/htc/workspaces/{workspaceId}/limits", path);
    expect([200, 404]).toContain(limits.response.status);
    if (target.kind === "emulator") expect(limits.data?.vCPUs).toBe(10000);
  });

  it("getWorkspaceTaskRetentionPolicy and putWorkspaceTaskRetentionPolicy (destructive: restored)", async () => {
    const path = { params: { path: { workspaceId: ctx.workspaceId! } } };
    const before = await client.api.GET("/htc/workspaces/{workspaceId}/task-retention-policy", path);
    expect([200, 404]).toContain(before.response.status);
    if (destructive(["putWorkspaceTaskRetentionPolicy"])) return;
    if (target.kind !== "emulator" && !before.data) {
      // There is no operation to remove a workspace policy again: do not leave one behind.
      skip(["putWorkspaceTaskRetentionPolicy"], "the workspace has no retention policy, and a PUT would leave one that cannot be removed");
      return;
    }
    // Production: write the current policy back unchanged. Emulator: set one, then read it.
    const body = before.data
      ? { archiveAfter: before.data.archiveAfter, deleteAfter: before.data.deleteAfter }
      : { archiveAfter: 0, deleteAfter: 0 };
    const put = await client.api.PUT("/htc/workspaces/{workspaceId}/task-retention-policy", { ...path, body });
    if (put.response.status === 405) return; // production may refuse the change; declared by the contract
    expect(put.response.status).toBe(201);
    expect(put.data).toMatchObject(body);
    const after = await unwrap(client.api.GET("/htc/workspaces/{workspaceId}/task-retention-policy", path));
    expect(after).toMatchObject(body);
  });
});

describe("projects", () => {
  it("getProjects: every page, following next", async () => {
    const first = await unwrap(client.api.GET("/htc/projects", { params: { query: { pageSize: 1, onlyMyProjects: false } } }));
    expect(Array.isArray(first.items)).toBe(true);
    const all = await collect(paginate(client, "/htc/projects", { params: { query: { onlyMyProjects: true } } }, { pageSize: 50 }), {
      limit: 100_000,
    });
    if (!target.allowWrites || target.options.projectId) {
      ctx.projectId = target.options.projectId ?? all[0]?.projectId;
    }
  });

  it("createProject (destructive: projects cannot be deleted through the API)", async () => {
    if (ctx.projectId) {
      skip(
        ["createProject"],
        target.options.projectId ? "HTC_CONTRACT_PROJECT_ID names the project to use" : "read-only run: using an existing project",
      );
      return;
    }
    if (destructive(["createProject"])) return;
    const regions = ctx.enabledRegions.slice(0, 1) as Schemas["RescaleRegion"][];
    const project = await unwrap(
      client.api.POST("/htc/projects", {
        body: { projectName: "htc-contract-tests", projectDescription: "created by @htcemu/contract-tests", regions },
      }),
    );
    ctx.projectId = project.projectId;
    ctx.ownProject = true;
    expect(project.projectName).toBe("htc-contract-tests");
    if (regions[0]) expect(project.regions).toEqual(regions);
  });

  it("getProject and updateProject (destructive)", async () => {
    if (needProject(["getProject", "updateProject"])) return;
    const project = await unwrap(client.api.GET("/htc/projects/{projectId}", projectPath()));
    ctx.region = project.regions?.[0];
    expect(project.projectId).toBe(ctx.projectId);
    if (destructive(["updateProject"])) return;
    // Regions can only be added: on a project of our own add one, elsewhere send the regions it already has.
    const extra = ctx.ownProject ? ctx.enabledRegions.find((r) => !project.regions?.includes(r as never)) : undefined;
    const regions = [...(project.regions ?? []), ...(extra ? [extra] : [])] as Schemas["RescaleRegion"][];
    const updated = await unwrap(client.api.PATCH("/htc/projects/{projectId}", { ...projectPath(), body: { regions } }));
    expect([...(updated.regions ?? [])].sort()).toEqual([...regions].sort());
  });

  it("getProjectDimensions and createProjectDimensions (destructive: restored)", async () => {
    if (needProject(["getProjectDimensions", "createProjectDimensions"])) return;
    const before = await unwrap(client.api.GET("/htc/projects/{projectId}/dimensions", projectPath()));
    if (destructive(["createProjectDimensions"])) return;
    const workspace = await unwrap(
      client.api.GET("/htc/workspaces/{workspaceId}/dimensions", { params: { path: { workspaceId: ctx.workspaceId! } } }),
    );
    const strip = <T extends { derived?: unknown }>({ derived: _derived, ...rest }: T) => rest;
    const wanted = ctx.ownProject
      ? workspace
          .filter((d) => d.region === ctx.region)
          .slice(0, 1)
          .map(strip)
      : before.map(strip);
    const put = await client.api.PUT("/htc/projects/{projectId}/dimensions", { ...projectPath(), body: wanted });
    expect(put.response.status).toBe(201);
    if (!ctx.ownProject) return;
    const after = await unwrap(client.api.GET("/htc/projects/{projectId}/dimensions", projectPath()));
    expect(after.map((d) => d.machineType)).toEqual(wanted.map((d) => d.machineType));
    // Restored at once: a restriction would also restrict the jobs submitted below.
    const restored = await client.api.PUT("/htc/projects/{projectId}/dimensions", { ...projectPath(), body: before.map(strip) });
    expect(restored.response.status).toBe(201);
  });

  it("project limits: create, list, get, update (destructive: removed again)", async () => {
    const ops = ["createProjectLimit", "getProjectLimits", "getProjectLimit", "updateProjectLimit"];
    if (needProject(ops)) return;
    const list = await unwrap(client.api.GET("/htc/projects/{projectId}/limits", projectPath()));
    if (destructive(["createProjectLimit", "updateProjectLimit"])) {
      if (list[0])
        await unwrap(
          client.api.GET("/htc/projects/{projectId}/limits/{id}", {
            params: { path: { projectId: ctx.projectId!, id: requireMember(list[0], "id", "a project limit") } },
          }),
        );
      else skip(["getProjectLimit"], "the project has no limit to read, and creating one is a destructive step");
      return;
    }
    const existing = list.find((l) => l.modifierRole === "PROJECT_ADMIN");
    // vCPUs 0 holds every job of the project in SUBMITTED_TO_RESCALE: the jobs below never start (nor cost).
    const created = await client.api.POST("/htc/projects/{projectId}/limits", {
      ...projectPath(),
      body: { vCPUs: 0, modifierRole: "PROJECT_ADMIN" },
    });
    expect(created.response.status).toBe(201);
    ctx.limitId = requireMember(created.data!, "id", "the new limit");
    cleanups.push({
      what: "remove or restore the project limit",
      run: async () => {
        if (existing) {
          await unwrap(
            client.api.POST("/htc/projects/{projectId}/limits", {
              ...projectPath(),
              body: { vCPUs: existing.vCPUs, modifierRole: "PROJECT_ADMIN" },
            }),
          );
        } else {
          const res = await client.api.DELETE("/htc/projects/{projectId}/limits/{id}", {
            params: { path: { projectId: ctx.projectId!, id: ctx.limitId! } },
          });
          if (res.response.status !== 204 && res.response.status !== 404)
            throw new Error(`deleteProjectLimit answered ${res.response.status}`);
        }
      },
    });
    const limits = await unwrap(client.api.GET("/htc/projects/{projectId}/limits", projectPath()));
    expect(limits.map((l) => l.id)).toContain(ctx.limitId);
    const idPath = { params: { path: { projectId: ctx.projectId!, id: ctx.limitId! } } };
    expect(await unwrap(client.api.GET("/htc/projects/{projectId}/limits/{id}", idPath))).toMatchObject({
      vCPUs: 0,
      modifierRole: "PROJECT_ADMIN",
    });
    expect(await unwrap(client.api.PATCH("/htc/projects/{projectId}/limits/{id}", { ...idPath, body: { vCPUs: 0 } }))).toMatchObject({
      vCPUs: 0,
    });
  });

  it("project task retention: get, put, delete (destructive: restored)", async () => {
    const ops = ["getProjectTaskRetentionPolicy", "putProjectTaskRetentionPolicy", "deleteProjectTaskRetentionPolicy"];
    if (needProject(ops)) return;
    const before = await client.api.GET("/htc/projects/{projectId}/task-retention-policy", projectPath());
    expect([200, 404]).toContain(before.response.status);
    if (destructive(["putProjectTaskRetentionPolicy", "deleteProjectTaskRetentionPolicy"])) return;
    const previous = before.data ? { archiveAfter: before.data.archiveAfter, deleteAfter: before.data.deleteAfter } : undefined;
    if (previous) {
      cleanups.push({
        what: "restore the project's retention policy",
        run: () => unwrap(client.api.PUT("/htc/projects/{projectId}/task-retention-policy", { ...projectPath(), body: previous })),
      });
    }
    const body = { archiveAfter: 720, deleteAfter: 2160 };
    const put = await client.api.PUT("/htc/projects/{projectId}/task-retention-policy", { ...projectPath(), body });
    expect(put.response.status).toBe(201);
    expect(await unwrap(client.api.GET("/htc/projects/{projectId}/task-retention-policy", projectPath()))).toMatchObject(body);
    const removed = await client.api.DELETE("/htc/projects/{projectId}/task-retention-policy", projectPath());
    expect(removed.response.status).toBe(204);
    const gone = await client.api.GET("/htc/projects/{projectId}/task-retention-policy", projectPath());
    expect(gone.response.status).toBe(404);
  });
});

describe("tasks and jobs", () => {
  it("createTask (destructive: deleted at the end), getTasks, getTask", async () => {
    if (needProject(["createTask", "getTasks", "getTask"])) return;
    if (!destructive(["createTask"])) {
      const task = await unwrap(
        client.api.POST("/htc/projects/{projectId}/tasks", {
          ...projectPath(),
          body: { taskName: "htc-contract-tests", taskDescription: "created by @htcemu/contract-tests" },
        }),
      );
      const taskId = requireMember(task, "taskId", "the new task");
      ctx.taskId = taskId;
      ctx.ownTask = true;
      expect(task.lifecycleStatus).toBe("ACTIVE");
      cleanups.push({
        what: `delete task ${taskId}`,
        run: async () => {
          const res = await client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", {
            params: { path: { projectId: ctx.projectId!, taskId } },
          });
          if (res.response.status !== 200 && res.response.status !== 404) throw new Error(`deleteTask answered ${res.response.status}`);
        },
      });
    }
    const tasks = await collect(paginate(client, "/htc/projects/{projectId}/tasks", projectPath(), { pageSize: 20 }), { limit: 100_000 });
    ctx.taskId ??= tasks.find((t) => t.lifecycleStatus === "ACTIVE")?.taskId ?? tasks[0]?.taskId;
    if (ctx.ownTask) expect(tasks.map((t) => t.taskId)).toContain(ctx.taskId);
    if (needTask(["getTask"])) return;
    expect((await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}", taskPath()))).taskId).toBe(ctx.taskId);
  });

  it("submitJobs (destructive: held by the project limit, then cancelled)", async () => {
    if (needTask(["submitJobs"]) || destructive(["submitJobs"])) return;
    const imageName = target.kind === "emulator" ? "htcemu/shell:1" : (target.options.image ?? "htc-contract-tests-no-such-image:v1");
    const result = await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path: { projectId: ctx.projectId!, taskId: ctx.taskId! }, query: { group: "contract-held" } },
      body: [
        {
          jobName: "contract",
          batchSize: 3,
          htcJobDefinition: {
            imageName,
            commands: ["sh", "-c", "echo contract"],
            maxVCpus: 1,
            maxMemory: 512,
            execTimeoutSeconds: 60,
            envs: [{ name: "A", value: "1" }],
          },
          tags: [{ key: "suite", value: "contract-tests" }],
          retryStrategy: { maxRetries: 0 },
        },
      ],
    });
    if (target.kind === "emulator" || target.options.image) {
      expect(result.response.status).toBe(200);
      expect(result.data![0]).toMatchObject({ batchSize: 3, group: "contract-held" });
    } else {
      // Without HTC_CONTRACT_IMAGE the image does not exist: the 400 is still checked against the contract.
      expect([200, 400]).toContain(result.response.status);
    }
    if (result.data?.[0]) ctx.jobId = `${result.data[0].parentJobId}:0`;
  });

  it("getJobs with filters and pagination, getJob, getEvents, getLogs", async () => {
    if (needTask(["getJobs", "getJob", "getEvents", "getLogs"])) return;
    const path = { projectId: ctx.projectId!, taskId: ctx.taskId! };
    const jobs = await collect(paginate(client, "/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path } }, { pageSize: 2 }), {
      limit: 100_000,
    });
    ctx.jobId ??= jobs[0]?.jobUUID;
    const simple = await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", {
        params: { path, query: { viewType: "SIMPLE", status: "SUBMITTED_TO_RESCALE", group: "contract-held", pageSize: 10 } },
      }),
    );
    if (ctx.ownTask && target.kind === "emulator") expect(simple.items).toHaveLength(3);
    if (ctx.jobId) {
      const byId = await unwrap(
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", {
          params: { path, query: { jobId: [ctx.jobId, "no-such-job:0"] } },
        }),
      );
      expect(byId.items?.map((j) => j.jobUUID)).toEqual([ctx.jobId]);
    }
    // Without a job, the 404 of an unknown one is what gets checked.
    const jobPath = { params: { path: { ...path, jobId: ctx.jobId ?? "no-such-job:0" } } };
    const job = await client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", jobPath);
    expect(job.response.status).toBe(ctx.jobId ? 200 : 404);
    const events = await client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", {
      params: { ...jobPath.params, query: { pageSize: 100 } },
    });
    expect(events.response.status).toBe(ctx.jobId ? 200 : 404);
    if (ctx.jobId) expect(events.data!.items?.[0]?.status).toBe("SUBMITTED_TO_RESCALE");
    const logs = await client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
      params: { ...jobPath.params, query: { sort: "asc", pageSize: 10 } },
    });
    expect(logs.response.status).toBe(ctx.jobId ? 200 : 404);
  });

  it("getTaskGroups, GetTaskStats, getGroupSummaryStatistics", async () => {
    if (needTask(["getTaskGroups", "GetTaskStats", "getGroupSummaryStatistics"])) return;
    const params = { path: { projectId: ctx.projectId!, taskId: ctx.taskId! } };
    const groups = await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/groups", { params: { ...params, query: { pageSize: 100 } } }),
    );
    if (ctx.jobId && ctx.ownTask) expect(groups).toContain("contract-held");
    const stats = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params }));
    if (ctx.jobId && ctx.ownTask) expect(stats.jobStatuses?.SUBMITTED_TO_RESCALE).toBe(3);
    const summary = await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics", {
        params: { ...params, query: { group: ["contract-held", "no-such-group"], pageSize: 10 } },
      }),
    );
    expect(summary.items?.map((i) => i.group)).toEqual(["contract-held", "no-such-group"]);
  });

  it("cancelJobs (destructive): one job by id, then the group", async () => {
    if (needTask(["cancelJobs"]) || destructive(["cancelJobs"])) return;
    const path = { projectId: ctx.projectId!, taskId: ctx.taskId! };
    if (ctx.jobId) {
      const one = await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", {
        params: { path, query: { jobId: [ctx.jobId] } },
      });
      expect(one.response.status).toBe(200);
    }
    const group = await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", {
      params: { path, query: { group: "contract-held" } },
      body: {},
    });
    expect(group.response.status).toBe(200);
    if (!ctx.jobId) return;
    const deadline = Date.now() + (target.kind === "emulator" ? 10_000 : 120_000);
    for (;;) {
      const jobs = await unwrap(
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path, query: { group: "contract-held" } } }),
      );
      const items = jobs.items ?? [];
      if (items.every((j) => isTerminalStatus(j.status))) break;
      if (Date.now() > deadline) throw new Error(`cancelled jobs did not finish: ${items.map((j) => j.status).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const job = await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path: { ...path, jobId: ctx.jobId } } }),
    );
    expect(job.status).toBe("FAILED");
  });

  it("deleteProjectLimit and deleteProjectLimits (destructive)", async () => {
    if (needProject(["deleteProjectLimit", "deleteProjectLimits"]) || destructive(["deleteProjectLimit", "deleteProjectLimits"])) return;
    if (!ctx.ownProject) {
      // Only on a project of our own: elsewhere the limits are someone else's (ours is restored by the clean-up).
      skip(["deleteProjectLimit", "deleteProjectLimits"], "the project is not the suite's own: its limits are left as they were");
      return;
    }
    const one = await client.api.DELETE("/htc/projects/{projectId}/limits/{id}", {
      params: { path: { projectId: ctx.projectId!, id: ctx.limitId! } },
    });
    expect(one.response.status).toBe(204);
    await unwrap(
      client.api.POST("/htc/projects/{projectId}/limits", { ...projectPath(), body: { vCPUs: 8, modifierRole: "WORKSPACE_ADMIN" } }),
    );
    const all = await client.api.DELETE("/htc/projects/{projectId}/limits", projectPath());
    expect(all.response.status).toBe(204);
    expect(await unwrap(client.api.GET("/htc/projects/{projectId}/limits", projectPath()))).toEqual([]);
  });

  it("a job that runs: SUCCEEDED with its events and logs (emulator, or HTC_CONTRACT_IMAGE)", async () => {
    if (!ctx.taskId || !ctx.ownTask || !target.allowWrites || (target.kind !== "emulator" && !target.options.image)) {
      console.info("[contract-tests] running a job skipped: needs the emulator, or writes allowed and HTC_CONTRACT_IMAGE");
      return;
    }
    const path = { projectId: ctx.projectId!, taskId: ctx.taskId };
    const limits = await unwrap(client.api.GET("/htc/projects/{projectId}/limits", projectPath()));
    if (limits.some((l) => l.vCPUs === 0)) {
      console.info("[contract-tests] running a job skipped: the project's limit holds jobs");
      return;
    }
    const imageName = target.options.image ?? "htcemu/shell:1";
    const [batch] = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path, query: { group: "contract-run" } },
        body: [
          {
            batchSize: 1,
            htcJobDefinition: {
              imageName,
              commands: ["sh", "-c", "echo contract-run"],
              maxVCpus: 1,
              maxMemory: 512,
              execTimeoutSeconds: 600,
            },
          },
        ],
      }),
    );
    const done = await waitForGroup(client, {
      ...path,
      group: "contract-run",
      intervalMs: 200,
      timeoutMs: target.kind === "emulator" ? 30_000 : 900_000,
    });
    expect(done.succeeded + done.failed).toBe(1);
    const jobPath = { params: { path: { ...path, jobId: `${batch!.parentJobId}:0` } } };
    const job = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", jobPath));
    expect(isTerminalStatus(job.status)).toBe(true);
    const events = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", jobPath));
    expect(events.items?.at(-1)?.status).toBe(job.status);
    await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", jobPath));
  });
});

describe("storage", () => {
  it("project storage: token, token for a region, tokens, presigned URLs", async () => {
    const ops = ["getProjectStorageToken", "getProjectStorageTokenForRegion", "getProjectStorageTokens", "getProjectPresignedUrl"];
    if (needProject(ops)) return;
    const token = await unwrap(client.api.GET("/htc/projects/{projectId}/storage/token", projectPath()));
    expect(token.projectId).toBe(ctx.projectId);
    const region = token.region as Schemas["SupportedRescaleRegion"];
    const regional = await unwrap(
      client.api.GET("/htc/projects/{projectId}/storage/token/{region}", { params: { path: { projectId: ctx.projectId!, region } } }),
    );
    expect(regional.region).toBe(region);
    const tokens = await unwrap(client.api.GET("/htc/projects/{projectId}/storage/tokens", projectPath()));
    expect(tokens.regionStores?.length).toBeGreaterThan(0);
    const put = await unwrap(
      client.api.GET("/htc/projects/{projectId}/storage/presigned-url", {
        params: { path: { projectId: ctx.projectId! }, query: { filePath: "htc-contract-tests/hello.txt" } },
      }),
    );
    expect(put.url).toMatch(/X-Amz-Signature=/);
    if (target.kind === "emulator")
      await roundTrip(requireMember(put, "url"), () =>
        client.api.GET("/htc/projects/{projectId}/storage/presigned-url", {
          params: { path: { projectId: ctx.projectId! }, query: { filePath: "htc-contract-tests/hello.txt", method: "GET" } },
        }),
      );
  });

  it("task storage: token, token for a region, tokens, regional storage, presigned URLs", async () => {
    const ops = [
      "getTaskStorageToken",
      "getTaskStorageTokenForRegion",
      "getTaskStorageTokens",
      "getTaskRegionalStorage",
      "getTaskPresignedUrl",
    ];
    if (needTask(ops)) return;
    const token = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token", taskPath()));
    const region = token.region as Schemas["SupportedRescaleRegion"];
    await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token/{region}", {
        params: { path: { projectId: ctx.projectId!, taskId: ctx.taskId!, region } },
      }),
    );
    const tokens = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/tokens", taskPath()));
    expect(tokens.regionStores?.length).toBeGreaterThan(0);
    const overview = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/regional-storage", taskPath()));
    expect(overview.regionalStores?.length).toBeGreaterThan(0);
    const params = { path: { projectId: ctx.projectId!, taskId: ctx.taskId! } };
    const put = await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
        params: { ...params, query: { filePath: "out/contract.txt", method: "PUT" } },
      }),
    );
    if (target.kind === "emulator")
      await roundTrip(requireMember(put, "url"), () =>
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
          params: { ...params, query: { filePath: "out/contract.txt", method: "GET" } },
        }),
      );
  });
});

/** Uploads through a PUT URL, downloads through the GET URL `getUrl` returns, compares (emulator only: writes). */
async function roundTrip(putUrl: string, getUrl: () => Promise<{ data?: { url?: string } }>): Promise<void> {
  const content = `contract-tests ${Date.now()}`;
  const uploaded = await fetch(putUrl, { method: "PUT", body: content });
  expect(uploaded.status).toBe(200);
  const download = requireMember((await getUrl()).data!, "url", "the download URL's answer");
  const downloaded = await fetch(download);
  expect(await downloaded.text()).toBe(content);
}

describe("container registry", () => {
  const repo = "htc-contract-tests";

  it("getRegistryToken, createRepo (destructive: idempotent), getImages", async () => {
    if (needProject(["getRegistryToken", "createRepo", "getImages"])) return;
    const password = await client.api.GET("/htc/projects/{projectId}/container-registry/token", { ...projectPath(), parseAs: "text" });
    expect(password.response.status).toBe(200);
    expect(String(password.data).length).toBeGreaterThan(0);
    if (!destructive(["createRepo"])) {
      const params = { params: { path: { projectId: ctx.projectId!, repoName: repo } } };
      const created = await unwrap(client.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", params));
      expect(created.repositoryName).toBe(repo);
      // Idempotent: the second call answers 200 with successfullyCreated false (the Python client's way: a {} body).
      const again = await unwrap(client.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", { ...params, body: {} }));
      expect(again.successfullyCreated).toBe(false);
    }
    const images = await unwrap(client.api.GET("/htc/projects/{projectId}/container-registry/images", projectPath()));
    expect(images.containerRegistry?.endsWith("/")).toBe(true);
  });

  it("getImage: an unknown image answers 404 with the contract's HTCImageError body", async () => {
    if (needProject(["getImage"])) return;
    const missing = await client.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
      params: { path: { projectId: ctx.projectId!, imageName: `${repo}:no-such-tag` } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ errorType: expect.any(String), errorDescription: expect.any(String) });
    if (target.kind === "emulator") expect(missing.error).toMatchObject({ errorType: "IMAGE_UNAVAILABLE" });
  });

  it(`getImage: ${PUSH_SOURCE_IMAGE} pushed with docker is READY (needs a Docker engine and docker-registry)`, async () => {
    if (target.kind !== "emulator" || !ctx.projectId) {
      console.info("[contract-tests] image push skipped: only against the emulator");
      return;
    }
    const missing = await pushUnavailable();
    // CI must exercise the real registry: there a missing tool is an error, as in the emulator's own tests.
    if (missing && process.env["HTC_REQUIRE_DOCKER"] === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${missing}`);
    if (missing) {
      console.info(`[contract-tests] image push skipped: ${missing}`);
      noSuccess.set("getImage", `no image could be pushed: ${missing}`);
      return;
    }
    const project = await unwrap(client.api.GET("/htc/projects/{projectId}", projectPath()));
    const registry = project.containerRegistry!;
    const password = await client.api.GET("/htc/projects/{projectId}/container-registry/token", { ...projectPath(), parseAs: "text" });
    await pushImage(registry.split("/")[0]!, String(password.data), PUSH_SOURCE_IMAGE, `${registry}${repo}:v1`);
    const params = { params: { path: { projectId: ctx.projectId, imageName: `${repo}:v1` } } };
    const deadline = Date.now() + 30_000;
    let status = (await unwrap(client.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", params))).status;
    while (status !== "READY" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await unwrap(client.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", params))).status;
    }
    expect(status).toBe("READY");
    expect((await unwrap(client.api.GET("/htc/projects/{projectId}/container-registry/images", projectPath()))).images).toContain(
      `${repo}:v1`,
    );
  }, 120_000);
});

describe("error bodies", () => {
  it("401 without credentials, 404 for unknown resources, 400 for invalid input: all as the contract says", async () => {
    const anonymous = suiteClient(target, { coverage, auth: "none" });
    expect((await anonymous.api.GET("/htc/projects")).response.status).toBe(401);
    expect(
      (await client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: "no-such-project" } } })).response.status,
    ).toBe(404);
    const invalid = await suiteClient(target, { coverage, validateRequests: false }).api.GET("/htc/projects", {
      params: { query: { pageSize: 0 } },
    });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error).toMatchObject({ errorType: expect.any(String), errorDescription: expect.stringMatching(/^pageSize/) });
    // A path outside the typed surface, through the checked fetch: the job 404 uses HTCRequestError.
    const unknownJob = await checkedFetch(target, coverage)(`${target.baseUrl}/htc/projects/no-such-project/tasks/no-such-task/jobs/x:0`, {
      headers: {
        Authorization: `Bearer ${(await unwrap(client.api.GET("/auth/token", { headers: { Authorization: `Token ${target.apiKey}` } }))).tokenValue}`,
      },
    });
    expect(unknownJob.status).toBe(404);
  });
});

describe("the task's end", () => {
  it("updateTask (archive, reactivate) and deleteTask (destructive)", async () => {
    if (needTask(["updateTask", "deleteTask"])) return;
    if (!ctx.ownTask) {
      skip(["updateTask", "deleteTask"], "the task is not the suite's own");
      return;
    }
    const archived = await client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", {
      ...taskPath(),
      body: { lifecycleStatus: "ARCHIVED" },
    });
    // Archiving waits for unfinished jobs: 400 while any job is still running is also a contract answer.
    expect([200, 400]).toContain(archived.response.status);
    if (archived.response.status === 200) {
      expect(archived.data!.lifecycleStatus).toBe("ARCHIVED");
      expect(
        (await unwrap(client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", { ...taskPath(), body: { lifecycleStatus: "ACTIVE" } })))
          .lifecycleStatus,
      ).toBe("ACTIVE");
    }
    const deleted = await unwrap(client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", taskPath()));
    expect(deleted.lifecycleStatus).toBe("DELETED");
  });
});

describe("coverage", () => {
  it("every operation the target serves was exercised", () => {
    const covered = new Set(coverage.covered());
    const expected = served.served.filter((id) => !skipped.has(id));
    const missing = expected.filter((id) => !covered.has(id));
    expect(missing, coverageReport(coverage, served.served, served.notServed, skipped)).toEqual([]);
    // Only operations still being built may be missing from the target; anything else is a lost route.
    expect(served.notServed.filter((id) => !IN_FLIGHT_OPERATIONS.includes(id))).toEqual([]);
    if (target.kind === "emulator" && served.notServed.length === 0)
      expect(coverage.summary()).toBe(`covered ${contract.operationIds.length}/${contract.operationIds.length}`);
  });

  it("against the emulator, every answer seen was held to its always-send guarantee: every declared member present", () => {
    if (target.kind !== "emulator") return;
    // Production is held to the contract's required lists (upstream's); the emulator's answers to more, each of them.
    const held = new Map(heldToAlwaysSend.toJSON().map((r) => [r.operationId, new Set(r.statuses)]));
    const escaped = coverage
      .toJSON()
      .flatMap((r) => r.statuses.filter((status) => !held.get(r.operationId)?.has(status)).map((status) => `${r.operationId} ${status}`));
    expect(escaped).toEqual([]);
    expect(heldToAlwaysSend.covered()).toEqual(coverage.covered());
  });

  it("against the emulator, every served operation also answered 2xx at least once", () => {
    if (target.kind !== "emulator") return;
    const ok = new Set(coverage.covered({ successOnly: true }));
    for (const [id, reason] of noSuccess) console.info(`[contract-tests] ${id} answered no 2xx: ${reason}`);
    expect(served.served.filter((id) => !ok.has(id) && !noSuccess.has(id))).toEqual([]);
  });
});
