// API fault injection through the admin API: rules that match operations, methods, projects, tasks, groups and
// job indexes; error statuses with the contract's bodies and Retry-After, latency, dropped connections; the log,
// the metric, and seeded determinism. The client's own retry, timeout and refresh logic rides them out.
import { createHtcClient, HtcApiError, HtcNetworkError, HtcTimeoutError, unwrap } from "@htcemu/client";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminOf, newTask, submit } from "./controls-helpers.js";
import { bearerFor, contract, http, startTestEmulator } from "./helpers.js";

let emulator: SpawnedEmulator;
let admin: AdminClient;

beforeAll(async () => {
  emulator = await startTestEmulator(["--executor", "simulated"]);
  admin = adminOf(emulator);
});

afterAll(async () => {
  await emulator?.stop();
});

afterEach(async () => {
  await admin.clearFaults();
});

/** A client whose every attempt (token exchanges included) is recorded as `METHOD path → status`. */
function recordingClient(options: { retry?: Parameters<typeof createHtcClient>[0]["retry"]; timeoutMs?: number } = {}) {
  const attempts: string[] = [];
  const client = createHtcClient({
    baseUrl: emulator.baseUrl,
    apiKey: emulator.apiKey,
    retry: options.retry ?? { retries: 5, minDelayMs: 10, maxDelayMs: 50 },
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    fetch: async (request) => {
      const path = new URL(request.url).pathname.replace("/api/v1", "");
      try {
        const response = await fetch(request);
        attempts.push(`${request.method} ${path} ${response.status}`);
        return response;
      } catch (error) {
        attempts.push(`${request.method} ${path} network-error`);
        throw error;
      }
    },
  });
  return { client, attempts };
}

describe("rules", () => {
  it("are added, listed, read and removed, and refused when malformed", async () => {
    const rule = await admin.addFault({ id: "r1", match: { operations: ["getProjects"] }, api: { status: 503 } });
    expect(rule).toMatchObject({
      id: "r1",
      probability: 1,
      seed: 0,
      skip: 0,
      times: null,
      matched: 0,
      injected: 0,
      held: 0,
      exhausted: false,
    });
    const generated = await admin.addFault({ api: { latencyMs: 1 }, match: { operations: ["getTasks"] } });
    expect(generated.id).toMatch(/^f\d+$/);
    expect((await admin.listFaults()).map((r) => r.id)).toEqual(["r1", generated.id]);
    expect((await admin.getFault("r1")).id).toBe("r1");
    expect((await admin.removeFault("r1")).id).toBe("r1");
    expect((await admin.listFaults()).map((r) => r.id)).toEqual([generated.id]);

    const root = `${emulator.rootUrl}/_emulator/v1`;
    const post = (body: unknown) =>
      http(`${root}/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const cases: [unknown, string][] = [
      [{ api: { status: 429 }, job: { kind: "timeout" } }, "(body)"],
      [{}, "(body)"],
      [{ api: {} }, "api"],
      [{ api: { status: 200 } }, "api.status"],
      [{ match: { operations: ["noSuchOperation"] }, api: { status: 500 } }, "match.operations[0]"],
      [{ job: { kind: "explode" } }, "job.kind"],
      [{ id: generated.id, api: { status: 500 } }, "id"],
      [{ probability: 2, api: { status: 500 } }, "probability"],
      // Job attempts have no operation or method: a job rule naming them is refused, not run without them.
      [{ match: { operations: ["submitJobs"] }, job: { kind: "timeout" } }, "match.operations"],
      [{ match: { operations: ["noSuchOperation"] }, job: { kind: "timeout" } }, "match.operations"],
      [{ match: { methods: ["POST"], group: "g" }, job: { kind: "exitCode" } }, "match.methods"],
    ];
    for (const [body, field] of cases) {
      const { status, body: error } = await post(body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect((error as { errorDescription: string }).errorDescription.startsWith(`${field}:`), JSON.stringify(error)).toBe(true);
    }
    expect((await http(`${root}/faults/nope`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("API faults", () => {
  it("rides out a 429 storm with Retry-After: the client retries exactly as often as the storm lasts", async () => {
    await admin.addFault({
      id: "storm",
      match: { operations: ["getProjects"], methods: ["GET"] },
      times: 3,
      api: { status: 429, retryAfterSeconds: 1 },
    });
    const { client, attempts } = recordingClient();
    const started = Date.now();
    const page = await unwrap(client.api.GET("/htc/projects"));
    expect(page.items).toBeDefined();
    expect(attempts.filter((a) => a.startsWith("GET /htc/projects"))).toEqual([
      "GET /htc/projects 429",
      "GET /htc/projects 429",
      "GET /htc/projects 429",
      "GET /htc/projects 200",
    ]);
    // Retry-After was honoured (three waits of a second), not the client's 10 ms backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    const rule = await admin.getFault("storm");
    expect(rule).toMatchObject({ matched: 4, injected: 3, exhausted: true });
    const log = await admin.faultLog({ ruleId: "storm" });
    expect(log.items.map((e) => [e.kind, e.operation, e.status])).toEqual(Array(3).fill(["api_status", "getProjects", 429]));
  });

  it("answers with the contract's error body for the status and operation, marked as injected", async () => {
    const ids = await newTask(createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey }));
    const token = await bearerFor(emulator, emulator.apiKey);
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const cases: [string, string, number, "HTCRequestError" | "OAuth2ErrorResponse"][] = [
      ["getJob", `/htc/projects/${ids.projectId}/tasks/${ids.taskId}/jobs/x:0`, 404, "HTCRequestError"],
      ["getProject", `/htc/projects/${ids.projectId}`, 404, "OAuth2ErrorResponse"],
      ["getProject", `/htc/projects/${ids.projectId}`, 400, "HTCRequestError"],
      ["getTasks", `/htc/projects/${ids.projectId}/tasks`, 401, "OAuth2ErrorResponse"],
      ["getTasks", `/htc/projects/${ids.projectId}/tasks`, 503, "OAuth2ErrorResponse"],
    ];
    for (const [operation, path, status, shape] of cases) {
      const rule = await admin.addFault({ match: { operations: [operation] }, times: 1, api: { status } });
      const response = await http(`${emulator.baseUrl}${path}`, auth);
      expect(response.status).toBe(status);
      expect(response.headers.get("x-htc-emulator-fault")).toBe(rule.id);
      expect(Object.keys(response.body as object).sort()).toEqual(
        shape === "HTCRequestError" ? ["errorDescription", "errorType", "message"] : ["error", "errorDescription"],
      );
      // Declared statuses validate against the contract as they are.
      if (status !== 503) expect(contract.validateResponse(operation, status, "application/json", response.body)).toEqual([]);
      if (status === 401) expect(response.headers.get("www-authenticate")).toBe("Bearer");
      await admin.removeFault(rule.id);
    }
  });

  it("adds latency that trips the client's timeout, and a retry gets through once the rule is spent", async () => {
    await admin.addFault({ match: { operations: ["getProjects"] }, times: 1, api: { latencyMs: 1500 } });
    const strict = recordingClient({ retry: false, timeoutMs: 300 });
    await expect(unwrap(strict.client.api.GET("/htc/projects"))).rejects.toBeInstanceOf(HtcTimeoutError);

    await admin.addFault({ match: { operations: ["getProjects"] }, times: 1, api: { latencyMs: 1500 } });
    const patient = recordingClient({ timeoutMs: 300 });
    await unwrap(patient.client.api.GET("/htc/projects"));
    expect(patient.attempts.filter((a) => a.startsWith("GET /htc/projects"))).toEqual([
      "GET /htc/projects network-error",
      "GET /htc/projects 200",
    ]);

    // Latency alone answers normally, late.
    await admin.addFault({ match: { operations: ["getProjects"] }, times: 1, api: { latencyMs: 400 } });
    const started = Date.now();
    await unwrap(recordingClient().client.api.GET("/htc/projects"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  it("drops connections: a retried GET gets through, a POST whose answer was lost still took effect", async () => {
    await admin.addFault({ id: "drop-get", match: { operations: ["getProjects"] }, times: 1, api: { drop: "request" } });
    const { client, attempts } = recordingClient();
    await unwrap(client.api.GET("/htc/projects"));
    expect(attempts.filter((a) => a.startsWith("GET /htc/projects"))).toEqual(["GET /htc/projects network-error", "GET /htc/projects 200"]);

    await admin.addFault({ id: "drop-post", match: { operations: ["createProject"] }, times: 1, api: { drop: "response" } });
    const error = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "lost-answer", projectDescription: "" } })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(HtcNetworkError);
    // POST is not retried by default (it is not idempotent): the project exists once.
    const names = (await unwrap(client.api.GET("/htc/projects"))).items!.map((p) => p.projectName);
    expect(names.filter((n) => n === "lost-answer")).toHaveLength(1);
    expect((await admin.faultLog()).items.filter((e) => e.kind === "api_drop").map((e) => e.ruleId)).toEqual(["drop-get", "drop-post"]);
  });

  it("matches on project, task, group and job index", async () => {
    const client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
    const a = await newTask(client, "match-a");
    const b = await newTask(client, "match-b");
    const jobs = await submit(client, a, 2, { group: "g1" });
    await admin.addFault({ match: { operations: ["getJob"], projectId: a.projectId, jobIndexes: [1] }, api: { status: 503 } });
    await admin.addFault({ match: { operations: ["getJobs"], taskId: a.taskId, group: "g1" }, api: { status: 502 } });
    await admin.addFault({ match: { methods: ["DELETE"], projectId: b.projectId }, api: { status: 500 } });
    const getJob = (jobId: string) =>
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path: { ...a, jobId } } });
    expect((await getJob(jobs[0]!)).response.status).toBe(200);
    expect((await getJob(jobs[1]!)).response.status).toBe(503);
    const getJobs = (ids: typeof a, group?: string) =>
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: ids, query: group ? { group } : {} } });
    expect((await getJobs(a, "g1")).response.status).toBe(502);
    expect((await getJobs(a)).response.status).toBe(200);
    expect((await getJobs(b, "g1")).response.status).toBe(200);
    const deleteTask = (ids: typeof a) => client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } });
    expect((await deleteTask(b)).response.status).toBe(500);
    expect((await deleteTask(a)).response.status).toBeLessThan(300);
  });

  it("matches a submission by its group, the query parameter of submitJobs", async () => {
    const client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
    const ids = await newTask(client, "submit-group");
    await admin.addFault({ id: "submit-g1", match: { operations: ["submitJobs"], group: "g1" }, api: { status: 503 } });
    const refused = await submit(client, ids, 1, { group: "g1" }).catch((e) => e);
    expect(refused).toBeInstanceOf(HtcApiError);
    expect(refused).toMatchObject({ status: 503 });
    expect(await submit(client, ids, 1, { group: "g2" })).toHaveLength(1);
    expect(await submit(client, ids, 1)).toHaveLength(1);
    expect(await admin.getFault("submit-g1")).toMatchObject({ matched: 1, injected: 1 });
    const groups = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/groups", { params: { path: ids } }));
    expect(groups).toEqual(["g2"]);
  });

  it("hits the token exchange too, and the client's refresh survives it", async () => {
    await admin.addFault({ match: { operations: ["getToken"] }, times: 2, api: { status: 503, retryAfterSeconds: 0 } });
    const { client, attempts } = recordingClient();
    await unwrap(client.api.GET("/htc/projects"));
    expect(attempts.filter((a) => a.startsWith("GET /auth/token"))).toEqual([
      "GET /auth/token 503",
      "GET /auth/token 503",
      "GET /auth/token 200",
    ]);
  });

  it("counts every injected fault in the metrics, by kind and rule", async () => {
    await admin.addFault({ id: "metric-rule", match: { operations: ["getTasks"] }, times: 2, api: { status: 500 } });
    const client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
    const ids = await newTask(client, "metrics");
    for (let i = 0; i < 3; i++) await client.api.GET("/htc/projects/{projectId}/tasks", { params: { path: { projectId: ids.projectId } } });
    const token = await bearerFor(emulator, emulator.apiKey);
    const metrics = await http(`${emulator.baseUrl}/htc/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.body as string).toContain("# TYPE htc_emulator_faults_injected_total counter");
    expect(metrics.body as string).toContain('htc_emulator_faults_injected_total{kind="api_status",rule="metric-rule"} 2');
  });

  it("is refused as an ordinary error by the typed client", async () => {
    await admin.addFault({ match: { operations: ["getProjects"] }, times: 1, api: { status: 404, errorDescription: "gone fishing" } });
    const error = await unwrap(recordingClient({ retry: false }).client.api.GET("/htc/projects")).catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error).toMatchObject({ status: 404, errorType: "not_found", errorDescription: "gone fishing" });
  });
});

describe("the admin API", () => {
  const root = () => `${emulator.rootUrl}/_emulator/v1`;

  it("is hit by the rules that name its operations, and only by them", async () => {
    // A rule for every request leaves the admin API alone, so a test can always remove it.
    await admin.addFault({ id: "everything", api: { status: 503 } });
    expect((await http(`${root()}/clock`)).status).toBe(200);
    await admin.removeFault("everything");

    await admin.addFault({ id: "clock-down", match: { operations: ["getClock"] }, times: 1, api: { status: 503, retryAfterSeconds: 2 } });
    const hit = await http(`${root()}/clock`);
    expect(hit.status).toBe(503);
    expect(hit.headers.get("x-htc-emulator-fault")).toBe("clock-down");
    expect(hit.headers.get("retry-after")).toBe("2");
    expect(hit.body).toMatchObject({ error: "service_unavailable" });
    expect((await http(`${root()}/clock`)).status).toBe(200);
    // A 400 of an admin operation has the body its contract declares for 400.
    await admin.addFault({ match: { operations: ["changeClock"] }, times: 1, api: { status: 400 } });
    const invalid = await http(`${root()}/clock`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ errorType: "VALIDATION_ERROR", message: null });
    expect((await admin.faultLog()).items.at(-1)).toMatchObject({
      operation: "changeClock",
      method: "POST",
      path: "/_emulator/v1/clock",
      status: 400,
    });
  });

  it("never lets a rule name the fault rules' own operations", async () => {
    const refused = await http(`${root()}/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ match: { operations: ["getClock", "removeFaultRule"] }, api: { status: 500 } }),
    });
    expect(refused.status).toBe(400);
    expect((refused.body as { errorDescription: string }).errorDescription).toMatch(/^match\.operations\[1\]: /);
  });

  it("counts its requests, by operation and status, in every workspace's metrics", async () => {
    await admin.clock();
    await http(`${root()}/faults/no-such-rule`);
    const token = await bearerFor(emulator, emulator.apiKey);
    const metrics = (await http(`${emulator.baseUrl}/htc/metrics`, { headers: { Authorization: `Bearer ${token}` } })).body as string;
    expect(metrics).toContain("# TYPE htc_emulator_admin_requests_total counter");
    expect(metrics).toMatch(/^htc_emulator_admin_requests_total\{operation="getClock",code="200"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^htc_emulator_admin_requests_total\{operation="getFaultRule",code="404"\} [1-9]\d*$/m);
  });
});

describe("determinism", () => {
  /** Runs the same request sequence against an emulator with one probabilistic rule; returns the statuses. */
  async function statuses(target: SpawnedEmulator, seed: number): Promise<number[]> {
    const targetAdmin = adminOf(target);
    await targetAdmin.addFault({
      id: `coin-${seed}`,
      seed,
      probability: 0.5,
      match: { operations: ["getProjects", "getTasks"] },
      api: { status: 503 },
    });
    const client = createHtcClient({ baseUrl: target.baseUrl, apiKey: target.apiKey, retry: false });
    const ids = await newTask(client, "coin");
    const out: number[] = [];
    for (let i = 0; i < 30; i++) {
      const call =
        i % 3 === 0
          ? client.api.GET("/htc/projects/{projectId}/tasks", { params: { path: { projectId: ids.projectId } } })
          : client.api.GET("/htc/projects");
      out.push((await call).response.status);
    }
    const log = await targetAdmin.faultLog({ ruleId: `coin-${seed}` });
    expect(log.items).toHaveLength(out.filter((s) => s === 503).length);
    await targetAdmin.clearFaults();
    return out;
  }

  it("gives the same faults for the same seed and request sequence, and others for another seed", async () => {
    const other = await startTestEmulator(["--executor", "simulated"]);
    try {
      const first = await statuses(emulator, 42);
      const second = await statuses(other, 42);
      expect(second).toEqual(first);
      expect(first).toContain(503);
      expect(first).toContain(200);
      const third = await statuses(other, 7);
      expect(third).not.toEqual(first);
    } finally {
      await other.stop();
    }
  });

  it("honours skip and times", async () => {
    await admin.addFault({ id: "window", skip: 2, times: 2, match: { operations: ["getProjects"] }, api: { status: 503 } });
    const client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
    const out: number[] = [];
    for (let i = 0; i < 6; i++) out.push((await client.api.GET("/htc/projects")).response.status);
    expect(out).toEqual([200, 200, 503, 503, 200, 200]);
  });
});
