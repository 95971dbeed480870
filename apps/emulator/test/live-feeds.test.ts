// The dashboard's live feeds (server-sent events): a task's status counts over time, a job's log lines as they are
// written, and the storage use per project and task.
import { requireMember, unwrap } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../src/index.js";
import { http } from "./helpers.js";

let emu: RunningEmulator;
let admin: string;
let projectId: string;
let taskId: string;

/** Reads server-sent events until `done` says so (or `ms` pass). */
async function events(url: string, done: (events: { event: string; data: unknown; id?: string }[]) => boolean, ms = 20_000) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  const out: { event: string; data: unknown; id?: string }[] = [];
  try {
    const response = await fetch(url, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (!done(out)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split("\n")
            .filter((l) => !l.startsWith(":"))
            .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
        );
        if (fields.event)
          out.push({ event: fields.event, data: JSON.parse(fields.data ?? "null"), ...(fields.id ? { id: fields.id } : {}) });
        end = buffer.indexOf("\n\n");
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return out;
}

beforeAll(async () => {
  emu = await startEmulator({
    executor: "simulated",
    strict: true,
    registry: "off",
    simulation: { duration: { distribution: "uniform", minMs: 300, maxMs: 800 }, startDelayMs: [50, 100], logLines: 3 },
  });
  admin = `${emu.rootUrl}/_emulator/v1`;
  const project = await unwrap(emu.client.api.POST("/htc/projects", { body: { projectName: "live", projectDescription: "" } }));
  projectId = requireMember(project, "projectId");
  const task = await unwrap(
    emu.client.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId } },
      body: { taskName: "t", taskDescription: "" },
    }),
  );
  taskId = requireMember(task, "taskId");
});

afterAll(() => emu?.stop());

describe("task statistics", () => {
  it("sends the history, then samples until every job has finished", async () => {
    const batch = await unwrap(
      emu.client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId }, query: { group: "g1" } },
        body: [{ batchSize: 20, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["true"] } }],
      }),
    );
    expect(batch.length).toBe(1);
    const url = `${admin}/live/projects/${projectId}/tasks/${taskId}/statistics?intervalMs=100`;
    type Sample = { at: string; total: Record<string, number>; groups: { group: string; counts: Record<string, number> }[] };
    const finished = (s: Sample) => s.total.SUCCEEDED! + s.total.FAILED! === 20;
    const seen = await events(url, (es) => es.some((e) => e.event === "sample" && finished(e.data as Sample)));
    expect(seen[0]!.event).toBe("history");
    const samples = [...(seen[0]!.data as Sample[]), ...seen.filter((e) => e.event === "sample").map((e) => e.data as Sample)];
    expect(samples.length).toBeGreaterThan(1);
    const last = samples.at(-1)!;
    expect(last.groups).toEqual([{ group: "g1", counts: last.total }]);
    expect(Object.values(samples[0]!.total).reduce((a, b) => a + b, 0)).toBe(20);

    // A second follower gets the samples kept so far at once.
    const again = await events(url, (es) => es.length >= 1);
    expect((again[0]!.data as Sample[]).length).toBeGreaterThanOrEqual(samples.length - 1);
  });

  it("answers 404 for a task that does not exist, and 400 for a bad interval", async () => {
    expect((await http(`${admin}/live/projects/${projectId}/tasks/nope/statistics`)).status).toBe(404);
    const bad = await http(`${admin}/live/projects/${projectId}/tasks/${taskId}/statistics?intervalMs=5`);
    expect(bad.status).toBe(400);
    expect((bad.body as { errorDescription: string }).errorDescription).toMatch(/^intervalMs/);
  });
});

describe("job logs", () => {
  it("sends the lines as they are written and the status changes, then ends", async () => {
    const [batch] = await unwrap(
      emu.client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId } },
        body: [{ batchSize: 1, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["true"] } }],
      }),
    );
    const jobId = `${batch!.parentJobId}:0`;
    const seen = await events(`${admin}/live/projects/${projectId}/tasks/${taskId}/jobs/${jobId}/logs`, (es) =>
      es.some((e) => e.event === "end"),
    );
    const statuses = seen.filter((e) => e.event === "status").map((e) => (e.data as { status: string }).status);
    expect(statuses.at(-1)).toBe("SUCCEEDED");
    const lines = seen.filter((e) => e.event === "line");
    expect(lines.length).toBe(3);
    const logs = await unwrap(
      emu.client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
        params: { path: { projectId, taskId, jobId }, query: { sort: "asc" } },
      }),
    );
    expect(lines.map((l) => (l.data as { message: string }).message)).toEqual(requireMember(logs, "items").map((l) => l.message));
    expect(seen.at(-1)).toMatchObject({ event: "end", data: { status: "SUCCEEDED" } });

    // Resuming after the second line sends only the third.
    const resumed = await fetch(`${admin}/live/projects/${projectId}/tasks/${taskId}/jobs/${jobId}/logs`, {
      headers: { "Last-Event-ID": lines[1]!.id! },
    });
    const text = await resumed.text();
    expect(text.match(/event: line/g)?.length).toBe(1);
    expect((await http(`${admin}/live/projects/${projectId}/tasks/${taskId}/jobs/nope:0/logs`)).status).toBe(404);
  });
});

describe("storage usage", () => {
  it("sums objects per project, shared folder and task", async () => {
    const put = async (url: string, body: string) => expect((await fetch(url, { method: "PUT", body })).status).toBe(200);
    const task = await unwrap(
      emu.client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
        params: { path: { projectId, taskId }, query: { filePath: "out/a.txt" } },
      }),
    );
    await put(requireMember(task, "url"), "12345");
    const shared = await unwrap(
      emu.client.api.GET("/htc/projects/{projectId}/storage/presigned-url", {
        params: { path: { projectId }, query: { filePath: "in/b.txt" } },
      }),
    );
    await put(requireMember(shared, "url"), "1234567890");
    const { status, body } = await http(`${admin}/storage/usage?projectId=${projectId}`);
    expect(status).toBe(200);
    expect(body).toEqual([
      { projectId, total: { objects: 2, bytes: 15 }, shared: { objects: 1, bytes: 10 }, tasks: [{ taskId, objects: 1, bytes: 5 }] },
    ]);
    expect((await http(`${admin}/storage/usage?projectId=other`)).body).toEqual([]);
  });
});
