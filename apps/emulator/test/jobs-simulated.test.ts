// Jobs through the API with the simulated executor: submission rules, the lifecycle and its events, logs,
// statistics, cancellation and limits. The emulator runs as a separate process with --strict.
import { collect, jobId, paginate, submitJobs, waitForGroup, type HtcClient } from "@htcemu/client";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerFor, contractClient, http, startTestEmulator, sent } from "./helpers.js";

let emulator: SpawnedEmulator;
let client: HtcClient;

const profile = { seed: 7, duration: { distribution: "fixed", minMs: 150 }, startDelayMs: [10, 30], logLines: 3 };

beforeAll(async () => {
  emulator = await startTestEmulator(["--executor", "simulated", "--simulation", JSON.stringify(profile)]);
  client = contractClient(emulator, { apiKey: emulator.apiKey });
});

afterAll(async () => {
  await emulator?.stop();
});

async function newTask(name = "jobs") {
  const project = await sent(client.api.POST("/htc/projects", { body: { projectName: name, projectDescription: "" } }));
  const task = await sent(
    client.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId: project.projectId } },
      body: { taskName: name, taskDescription: "" },
    }),
  );
  return { projectId: project.projectId, taskId: task.taskId };
}

const definition = { imageName: "htcemu/shell:1", commands: ["sh", "-c", "echo hi"] };

describe("submission", () => {
  it("accepts batches, echoes them with ids, and numbers jobs <parentJobId>:<index>", async () => {
    const { projectId, taskId } = await newTask();
    const echo = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId }, query: { group: "g1" } },
        body: [
          { jobName: "a", batchSize: 3, htcJobDefinition: definition, tags: [{ key: "k", value: "v" }] },
          { htcJobDefinition: { ...definition, envs: [{ name: "FOO", value: "bar" }] } },
        ],
      }),
    );
    expect(echo).toHaveLength(2);
    expect(echo[0]).toMatchObject({ batchSize: 3, group: "g1", taskId, projectId, jobName: "a" });
    expect(echo[1]!.batchSize).toBe(1);
    const jobs = await collect(
      paginate(client, "/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: { projectId, taskId } } }),
    );
    expect(jobs.map((j) => j.jobUUID)).toEqual([0, 1, 2].map((i) => jobId(echo[0]!.parentJobId, i)).concat(jobId(echo[1]!.parentJobId, 0)));
    const groups = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/groups", { params: { path: { projectId, taskId } } }),
    );
    expect(groups).toEqual(["g1"]);
  });

  it("answers with every member of a batch present: null for what was not sent, group null without a group", async () => {
    const { projectId, taskId } = await newTask();
    // null in a request means the same as leaving the member out.
    const [echo] = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId } },
        body: [{ htcJobDefinition: { ...definition, maxVCpus: null }, tags: [{ key: "only-a-key" }], retryStrategy: {} }],
      }),
    );
    expect(echo).toMatchObject({
      jobName: null,
      group: null,
      batchSize: 1,
      regions: null,
      region: null,
      tags: [{ key: "only-a-key", value: null }],
      retryStrategy: { maxRetries: null },
      experimental: null,
      rescaleProjectId: null,
      cloudProvider: null,
      htcJobDefinition: {
        imageName: definition.imageName,
        commands: definition.commands,
        maxVCpus: null,
        maxMemory: null,
        maxDiskGiB: null,
        maxSwap: null,
        tags: null,
        envs: null,
        claims: null,
        execTimeoutSeconds: null,
        architecture: null,
        priority: null,
        workingDir: null,
      },
    });
    const job = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", {
        params: { path: { projectId, taskId, jobId: jobId(echo!.parentJobId, 0) } },
      }),
    );
    // A job of no group: null, and the emulator's defaults where the definition named none.
    expect(job).toMatchObject({
      group: null,
      maxVCpus: 1,
      minVCpus: 1,
      maxDiskGiB: null,
      maxGpus: null,
      tags: [{ key: "only-a-key", value: null }],
    });
    expect(job.providerJobId === null || typeof job.providerJobId === "string").toBe(true);
  });

  it("refuses invalid batches with a 400 naming the member, and stores nothing", async () => {
    const { projectId, taskId } = await newTask();
    const token = await bearerFor(emulator, emulator.apiKey);
    const url = `${emulator.baseUrl}/htc/projects/${projectId}/tasks/${taskId}/jobs/batch`;
    const batch = (d: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      htcJobDefinition: { ...definition, ...d },
      ...extra,
    });
    const cases: [unknown, string][] = [
      [[batch({}, { batchSize: 1001 })], "[0].batchSize"],
      [[batch({}, { batchSize: 0 })], "[0].batchSize"],
      [[batch({ imageName: "" })], "[0].htcJobDefinition.imageName"],
      [[batch({ imageName: "Not/Valid" })], "[0].htcJobDefinition.imageName"],
      [[batch({ maxVCpus: 65 })], "[0].htcJobDefinition.maxVCpus"],
      [[batch({ maxMemory: 3 })], "[0].htcJobDefinition.maxMemory"],
      [[batch({ maxDiskGiB: 64001 })], "[0].htcJobDefinition.maxDiskGiB"],
      [[batch({ execTimeoutSeconds: 59 })], "[0].htcJobDefinition.execTimeoutSeconds"],
      [[batch({ execTimeoutSeconds: 1209601 })], "[0].htcJobDefinition.execTimeoutSeconds"],
      [
        [
          batch({
            envs: [
              { name: "OK", value: "1" },
              { name: "AWS_BATCH_JOB_ID", value: "x" },
            ],
          }),
        ],
        "[0].htcJobDefinition.envs[1].name",
      ],
      [[batch({ envs: [{ name: "RDF_X", value: "x" }] })], "[0].htcJobDefinition.envs[0].name"],
      [[batch({ claims: [{ name: "a" }] })], "[0].htcJobDefinition.claims[0].value"],
      [[batch({ architecture: "SPARC" })], "[0].htcJobDefinition.architecture"],
      [[batch({ priority: "URGENT" })], "[0].htcJobDefinition.priority"],
      [[batch({ commands: "echo" })], "[0].htcJobDefinition.commands"],
      [[batch({}, { regions: ["GCP_EU_WEST_4"] })], "[0].regions[0]"],
      [[batch({}, { retryStrategy: { maxRetries: 11 } })], "[0].retryStrategy.maxRetries"],
      [[batch({}), batch({ imageName: undefined })], "[1].htcJobDefinition.imageName"],
      [Array.from({ length: 101 }, () => batch({})), "(body)"],
      [[], "(body)"],
    ];
    for (const [body, field] of cases) {
      const { status, body: error } = await http(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(status, field).toBe(400);
      expect((error as { errorDescription: string }).errorDescription.startsWith(field), JSON.stringify(error)).toBe(true);
    }
    const stats = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path: { projectId, taskId } } }),
    );
    expect(Object.values(stats.jobStatuses).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("accepts 100 batches of 1000 jobs in one request", async () => {
    const { projectId, taskId } = await newTask("big");
    await sent(
      client.api.POST("/htc/projects/{projectId}/limits", {
        params: { path: { projectId } },
        body: { vCPUs: 0, modifierRole: "PROJECT_ADMIN" },
      }),
    );
    const result = await submitJobs(client, {
      projectId,
      taskId,
      group: "big",
      template: { htcJobDefinition: definition },
      count: 100_000,
    });
    expect(result.batches).toHaveLength(100);
    const [summary] = (
      await sent(
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics", {
          params: { path: { projectId, taskId }, query: { group: ["big"] } },
        }),
      )
    ).items;
    expect(summary!.jobStatuses.SUBMITTED_TO_RESCALE).toBe(100_000);
  });

  it("refuses jobs for archived and deleted tasks", async () => {
    const { projectId, taskId } = await newTask();
    const at = { params: { path: { projectId, taskId } } };
    await sent(client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", { ...at, body: { lifecycleStatus: "ARCHIVED" } }));
    const archived = await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      ...at,
      body: [{ htcJobDefinition: definition }],
    });
    expect(archived.response.status).toBe(400);
    await sent(client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", at));
    const deleted = await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      ...at,
      body: [{ htcJobDefinition: definition }],
    });
    expect(deleted.response.status).toBe(400);
  });
});

describe("lifecycle", () => {
  it("runs jobs to SUCCEEDED with one event per status, in order, and strictly increasing log times", async () => {
    const { projectId, taskId } = await newTask();
    const echo = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId }, query: { group: "run" } },
        body: [{ batchSize: 5, htcJobDefinition: definition }],
      }),
    );
    const done = await waitForGroup(client, { projectId, taskId, group: "run", intervalMs: 100, timeoutMs: 20_000 });
    expect(done.succeeded).toBe(5);
    const id = jobId(echo[0]!.parentJobId, 2);
    const path = { params: { path: { projectId, taskId, jobId: id } } };
    const job = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", path));
    expect(job).toMatchObject({
      status: "SUCCEEDED",
      statusReason: "Completed",
      failureCode: null,
      group: "run",
      container: { exitCode: 0 },
    });
    expect(job.startedAt).not.toBeNull();
    const events = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", path));
    expect(events.items.map((e) => e.status)).toEqual([
      "SUBMITTED_TO_RESCALE",
      "SUBMITTED_TO_PROVIDER",
      "RUNNABLE",
      "STARTING",
      "RUNNING",
      "SUCCEEDED",
    ]);
    const times = events.items.map((e) => Date.parse(e.dateTime));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The colon of the job id may also arrive percent-encoded.
    const encoded = await http(`${emulator.baseUrl}/htc/projects/${projectId}/tasks/${taskId}/jobs/${encodeURIComponent(id)}`, {
      headers: { Authorization: `Bearer ${await bearerFor(emulator, emulator.apiKey)}` },
    });
    expect((encoded.body as { jobUUID: string }).jobUUID).toBe(id);

    const newest = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", path));
    expect(newest.items).toHaveLength(3);
    const oldest = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", { params: { ...path.params, query: { sort: "asc" } } }),
    );
    expect(oldest.items).toEqual([...newest.items].reverse());
    const stamps = oldest.items.map((l) => Date.parse(l.timestamp));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
    const paged = await collect(
      paginate(
        client,
        "/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs",
        { params: { path: { projectId, taskId, jobId: id }, query: { sort: "asc" } } },
        { pageSize: 1 },
      ),
    );
    expect(paged).toEqual(oldest.items);

    const simple = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", {
        params: { path: { projectId, taskId }, query: { viewType: "SIMPLE", pageSize: 1 } },
      }),
    );
    // SIMPLE sends the members it leaves empty as null (every declared member is present).
    expect(simple.items[0]).toMatchObject({ commands: null, envs: null, tags: null, jobExecutionEnvironment: null, instanceLabels: null });
    expect(simple.items[0]!.status).toBeTypeOf("string");
    const full = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: { projectId, taskId }, query: { pageSize: 1 } } }),
    );
    expect(full.items[0]!.commands).toEqual(definition.commands);
  });

  it("filters jobs by status, group and id", async () => {
    const { projectId, taskId } = await newTask();
    const path = { projectId, taskId };
    const [a] = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path, query: { group: "a" } },
        body: [{ batchSize: 2, htcJobDefinition: definition }],
      }),
    );
    await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path, query: { group: "b" } },
        body: [{ batchSize: 3, htcJobDefinition: definition }],
      }),
    );
    await waitForGroup(client, { projectId, taskId, intervalMs: 100, timeoutMs: 20_000, expectedJobs: 5 });
    const list = (query: Record<string, unknown>) =>
      sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path, query } }));
    expect((await list({ group: "b" })).items).toHaveLength(3);
    expect((await list({ status: "SUCCEEDED" })).items).toHaveLength(5);
    expect((await list({ status: "RUNNING" })).items).toHaveLength(0);
    expect((await list({ jobId: [jobId(a!.parentJobId, 1), "nope:0"] })).items.map((j) => j.jobUUID)).toEqual([jobId(a!.parentJobId, 1)]);
    expect((await list({ group: "missing" })).items).toHaveLength(0);
    const all = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics", { params: { path } }));
    expect(all.items.map((i) => i.group)).toEqual(["a", "b"]);
    const picked = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics", {
        params: { path, query: { group: ["b", "zzz"] } },
      }),
    );
    expect(picked.items.map((i) => [i.group, i.jobStatuses.SUCCEEDED])).toEqual([
      ["b", 3],
      ["zzz", 0],
    ]);
  });
});

describe("cancellation and limits", () => {
  it("holds jobs over the vCPU limit in SUBMITTED_TO_RESCALE, and cancels queued jobs at once", async () => {
    const { projectId, taskId } = await newTask();
    const path = { projectId, taskId };
    await sent(
      client.api.POST("/htc/projects/{projectId}/limits", {
        params: { path: { projectId } },
        body: { vCPUs: 0, modifierRole: "PROJECT_ADMIN" },
      }),
    );
    const [batch] = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path, query: { group: "held" } },
        body: [{ batchSize: 4, htcJobDefinition: definition }],
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const held = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path } }));
    expect(held.jobStatuses.SUBMITTED_TO_RESCALE).toBe(4);
    // Cancel one job by id, then the rest of the group.
    await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", {
        params: { path, query: { jobId: [jobId(batch!.parentJobId, 0)] } },
      }),
    );
    const one = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path } }));
    expect(one.jobStatuses).toMatchObject({ SUBMITTED_TO_RESCALE: 3, FAILED: 1 });
    await sent(client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", { params: { path, query: { group: "held" } } }));
    const job = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", {
        params: { path: { ...path, jobId: jobId(batch!.parentJobId, 3) } },
      }),
    );
    expect(job).toMatchObject({ status: "FAILED", statusReason: "Cancelled by user", failureCode: null });
    const events = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", { params: { path: { ...path, jobId: job.jobUUID } } }),
    );
    expect(events.items.at(-1)).toMatchObject({ status: "FAILED", userCancelledEvent: true });
    // Raising the limit releases nothing that was cancelled.
    await sent(
      client.api.POST("/htc/projects/{projectId}/limits", {
        params: { path: { projectId } },
        body: { vCPUs: 10, modifierRole: "PROJECT_ADMIN" },
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const after = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path } }));
    expect(after.jobStatuses.FAILED).toBe(4);
  });

  it("lets at most the limit's worth of vCPUs run at once", async () => {
    const { projectId, taskId } = await newTask();
    const path = { projectId, taskId };
    await sent(
      client.api.POST("/htc/projects/{projectId}/limits", {
        params: { path: { projectId } },
        body: { vCPUs: 4, modifierRole: "PROJECT_ADMIN" },
      }),
    );
    await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path },
        body: [{ batchSize: 6, htcJobDefinition: { ...definition, maxVCpus: 2 } }],
      }),
    );
    let most = 0;
    for (let i = 0; i < 30; i++) {
      const s = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path } }));
      const active = s.jobStatuses.SUBMITTED_TO_PROVIDER + s.jobStatuses.RUNNABLE + s.jobStatuses.STARTING + s.jobStatuses.RUNNING;
      most = Math.max(most, active);
      if (s.jobStatuses.SUCCEEDED === 6) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(most).toBeLessThanOrEqual(2);
    const done = await waitForGroup(client, { projectId, taskId, intervalMs: 100, timeoutMs: 20_000 });
    expect(done.succeeded).toBe(6);
  });

  it("cancels unfinished jobs when the task is deleted, and archiving waits for jobs to finish", async () => {
    const { projectId, taskId } = await newTask();
    const path = { projectId, taskId };
    await sent(
      client.api.POST("/htc/projects/{projectId}/limits", {
        params: { path: { projectId } },
        body: { vCPUs: 0, modifierRole: "PROJECT_ADMIN" },
      }),
    );
    await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path },
        body: [{ batchSize: 2, htcJobDefinition: definition }],
      }),
    );
    const archive = await client.api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", {
      params: { path },
      body: { lifecycleStatus: "ARCHIVED" },
    });
    expect(archive.response.status).toBe(400);
    await sent(client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path } }));
    const stats = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path } }));
    expect(stats.jobStatuses.FAILED).toBe(2);
  });
});
