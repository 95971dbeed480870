// The audit of the official clients as a test: every member that Rescale's Python client or the official Go CLI
// reads without a default (src/client-reads.ts) must be in the target's real answers, and not `null` where the
// client cannot take one. The answers come from one flow: a project, a task, a batch submitted WITHOUT a group
// (the case that raised KeyError in the Python client's HtcJobBatch.to_jobs), its jobs, events and logs. Against
// the emulator (the default) all of it runs; elsewhere the steps that write need HTC_CONTRACT_ALLOW_WRITES=1.
import { type HtcClient, jobId, requireMember, unwrap } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_READS, type ClientRead, valuesAt } from "../src/client-reads.js";
import { PUSH_SOURCE_IMAGE, pushImage, pushUnavailable } from "../src/docker.js";
import { suiteClient } from "../src/harness.js";
import { resolveTarget, type Target, writesRefused } from "../src/target.js";

let target: Target;
let client: HtcClient;
/** The answers the table is checked against, by operationId; a reason where one could not be had. */
const answers = new Map<string, unknown>();
const unavailable = new Map<string, string>();
const cleanups: (() => Promise<unknown>)[] = [];

async function flow(): Promise<void> {
  answers.set("getToken", await unwrap(client.api.GET("/auth/token", { headers: { Authorization: `Token ${target.apiKey}` } })));
  answers.set("whoAmI", await unwrap(client.api.GET("/auth/whoami")));
  answers.set("getTokenWhoAmI", await unwrap(client.api.GET("/auth/token/whoami")));

  const refused = writesRefused(target);
  let projectId = target.options.projectId;
  if (!refused) {
    const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "htc-client-reads", projectDescription: "" } }));
    projectId = requireMember(project, "projectId");
  }
  answers.set("getProjects", await unwrap(client.api.GET("/htc/projects", { params: { query: { pageSize: 5 } } })));
  if (!projectId) {
    for (const id of ["getProject", "createTask", "getTasks", "getTask", "GetTaskStats", "getImages", "getImage", "submitJobs"])
      unavailable.set(id, refused ?? "no project");
    return;
  }
  const projectPath = { params: { path: { projectId } } };
  answers.set("getProject", await unwrap(client.api.GET("/htc/projects/{projectId}", projectPath)));
  answers.set("getImages", await unwrap(client.api.GET("/htc/projects/{projectId}/container-registry/images", projectPath)));
  if (refused) {
    for (const id of ["createTask", "getTask", "GetTaskStats", "getImage", "submitJobs", "getJobs", "getJob", "getEvents", "getLogs"])
      unavailable.set(id, refused);
    answers.set("getTasks", await unwrap(client.api.GET("/htc/projects/{projectId}/tasks", projectPath)));
    return;
  }

  const task = await unwrap(
    client.api.POST("/htc/projects/{projectId}/tasks", { ...projectPath, body: { taskName: "client-reads", taskDescription: "" } }),
  );
  answers.set("createTask", task);
  const ids = { projectId, taskId: requireMember(task, "taskId") };
  cleanups.push(() => client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }));
  answers.set("getTasks", await unwrap(client.api.GET("/htc/projects/{projectId}/tasks", projectPath)));
  answers.set("getTask", await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } })));

  // No group: what the Python client always submits.
  const imageName = target.kind === "emulator" ? PUSH_SOURCE_IMAGE : target.options.image;
  if (!imageName) {
    for (const id of ["submitJobs", "getJobs", "getJob", "getEvents", "getLogs"])
      unavailable.set(id, "no image to run (HTC_CONTRACT_IMAGE)");
  } else {
    const batches = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: ids },
        body: [{ batchSize: 2, htcJobDefinition: { imageName, commands: ["sh", "-c", "echo read me"], execTimeoutSeconds: 60 } }],
      }),
    );
    answers.set("submitJobs", batches);
    const first = jobId(requireMember(batches[0]!, "parentJobId", "the submitted batch"), 0);
    const jobPath = { params: { path: { ...ids, jobId: first } } };
    // Log lines exist once the job ran: wait for its end (a few seconds with the emulator's executors).
    const deadline = Date.now() + 60_000;
    let job = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", jobPath));
    while (job.status !== "SUCCEEDED" && job.status !== "FAILED" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      job = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", jobPath));
    }
    answers.set("getJob", job);
    answers.set("getJobs", await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: ids } })));
    answers.set("getEvents", await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", jobPath)));
    answers.set("getLogs", await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", jobPath)));
  }
  answers.set(
    "GetTaskStats",
    await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path: ids } })),
  );

  // An image status needs a pushed image: Docker and the emulator's registry.
  const missing = target.kind === "emulator" ? await pushUnavailable() : "only pushed against the emulator";
  if (missing && target.kind === "emulator" && process.env["HTC_REQUIRE_DOCKER"] === "1")
    throw new Error(`HTC_REQUIRE_DOCKER=1 but ${missing}`);
  if (missing) {
    unavailable.set("getImage", `no image could be pushed: ${missing}`);
    return;
  }
  const project = answers.get("getProject") as { containerRegistry?: string };
  const registry = requireMember(project, "containerRegistry", "the project");
  await unwrap(
    client.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", { params: { path: { projectId, repoName: "reads" } } }),
  );
  const password = await client.api.GET("/htc/projects/{projectId}/container-registry/token", { ...projectPath, parseAs: "text" });
  await pushImage(registry.split("/")[0]!, String(password.data), PUSH_SOURCE_IMAGE, `${registry}reads:v1`);
  answers.set(
    "getImage",
    await unwrap(
      client.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
        params: { path: { projectId, imageName: "reads:v1" } },
      }),
    ),
  );
}

beforeAll(async () => {
  target = await resolveTarget({ args: ["--registry-ready-delay", "0"] });
  client = suiteClient(target);
  await flow();
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await target?.stop();
}, 60_000);

function label(row: ClientRead): string {
  return `${row.client}: ${row.operationId} ${row.path}${row.nullOk ? " (null ok)" : ""}, read by ${row.readBy}`;
}

describe("what the official clients read without a default is in the answers", () => {
  it.each(CLIENT_READS.map((row) => [label(row), row] as const))("%s", (_name, row) => {
    const why = unavailable.get(row.operationId);
    if (why) {
      console.info(`[client-reads] ${row.operationId} not checked: ${why}`);
      return;
    }
    expect(answers.has(row.operationId), `the flow has no answer of ${row.operationId}`).toBe(true);
    const found = valuesAt(answers.get(row.operationId), row.path);
    expect(found.length, `${row.operationId}: nothing at ${row.path} to check (an empty list?)`).toBeGreaterThan(0);
    const missing = found.filter((f) => f.value === undefined).map((f) => f.at);
    expect(missing, `${row.operationId}: members the ${row.client} client reads are missing`).toEqual([]);
    if (!row.nullOk) {
      const nulls = found.filter((f) => f.value === null).map((f) => f.at);
      expect(nulls, `${row.operationId}: the ${row.client} client cannot take null here`).toEqual([]);
    }
  });

  it("has the submitted batch's group as null when it was submitted without one", () => {
    if (unavailable.has("submitJobs")) return;
    const [batch] = answers.get("submitJobs") as Record<string, unknown>[];
    expect(Object.hasOwn(batch!, "group")).toBe(true);
    if (target.kind === "emulator") expect(batch!["group"]).toBeNull();
  });
});

describe("valuesAt", () => {
  it("walks members, every item and the first item, and says where a member is missing", () => {
    const body = { items: [{ a: { b: 1 } }, { a: {} }, { a: null }], list: [{ x: 0 }] };
    expect(valuesAt(body, "items[].a.b")).toEqual([
      { at: "items[0].a.b", value: 1 },
      { at: "items[1].a.b", value: undefined },
      { at: "items[2].a", value: null },
    ]);
    expect(valuesAt([{ group: null }], "[0].group")).toEqual([{ at: "[0].group", value: null }]);
    expect(valuesAt(body, "list[0].x")).toEqual([{ at: "list[0].x", value: 0 }]);
    expect(valuesAt(body, "missing.deeper")).toEqual([{ at: "missing", value: undefined }]);
    expect(valuesAt({ items: [] }, "items[].a")).toEqual([]);
  });
});
