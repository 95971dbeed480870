// The request inspector: what it records of each API, filters, the redaction of every kind of secret, bounds on
// memory, the live stream, the HAR export, and answers that stream (snapshots, live feeds) still streaming.
import { Agent, request } from "node:http";
import { requireMember, unwrap } from "@htcemu/client";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../src/index.js";
import type { AppEnv } from "../src/http/env.js";
import { jsonAnswer, operationFrame } from "../src/http/frame.js";
import { Recorder } from "../src/http/inspect.js";
import { Inspector, keptText } from "../src/inspector/inspector.js";
import { redactJsonText, redactQuery } from "../src/inspector/redact.js";
import { http } from "./helpers.js";

type Summary = {
  id: number;
  method: string;
  path: string;
  query: string;
  operationId: string | null;
  api: string;
  status: number;
  durationMs: number;
  principal: { userId: string; workspaceId: string } | null;
  violations: unknown[];
  fromDashboard: boolean;
  complete: boolean;
  responseSize: number | null;
};
type Body = { mimeType: string; size: number; text?: string; truncated: boolean; omitted?: string };
type Detail = Summary & {
  requestHeaders: { name: string; value: string }[];
  responseHeaders: { name: string; value: string }[];
  requestBody: Body | null;
  responseBody: Body | null;
};

let emu: RunningEmulator;
let admin: string;
let bearer: string;
let projectId: string;
let taskId: string;

async function list(query = ""): Promise<{ items: Summary[]; held: number; recorded: number }> {
  const { status, body } = await http(`${admin}/inspector/requests${query ? `?${query}` : ""}`);
  expect(status).toBe(200);
  return body as { items: Summary[]; held: number; recorded: number };
}

async function detail(id: number): Promise<Detail> {
  const { status, body } = await http(`${admin}/inspector/requests/${id}`);
  expect(status).toBe(200);
  return body as Detail;
}

async function latest(operationId: string): Promise<Detail> {
  const { items } = await list(`operationId=${operationId}&limit=1`);
  expect(items.length).toBe(1);
  return detail(items[0]!.id);
}

beforeAll(async () => {
  emu = await startEmulator({
    executor: "simulated",
    strict: true,
    registry: "off",
    simulation: { duration: { distribution: "fixed", minMs: 50 } },
  });
  admin = `${emu.rootUrl}/_emulator/v1`;
  const token = await unwrap(emu.client.api.GET("/auth/token", { headers: { Authorization: `Token ${emu.apiKey}` } }));
  bearer = requireMember(token, "tokenValue");
  const project = await unwrap(emu.client.api.POST("/htc/projects", { body: { projectName: "inspected", projectDescription: "" } }));
  projectId = requireMember(project, "projectId");
  const task = await unwrap(
    emu.client.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId } },
      body: { taskName: "t", taskDescription: "" },
    }),
  );
  taskId = requireMember(task, "taskId");
});

afterAll(async () => {
  await emu?.stop();
});

describe("recording", () => {
  it("records an HTC operation with its operation, status, latency, caller and bodies", async () => {
    const { status } = await http(`${emu.baseUrl}/htc/projects/${projectId}`, { headers: { Authorization: `Bearer ${bearer}` } });
    expect(status).toBe(200);
    const entry = await latest("getProject");
    expect(entry).toMatchObject({
      method: "GET",
      path: `/api/v1/htc/projects/${projectId}`,
      api: "htc",
      status: 200,
      complete: true,
      fromDashboard: false,
    });
    expect(entry.durationMs).toBeGreaterThan(0);
    expect(entry.principal?.workspaceId).toBe(emu.workspaceId);
    expect(JSON.parse(entry.responseBody!.text!).projectId).toBe(projectId);
    expect(entry.requestHeaders.find((h) => h.name.toLowerCase() === "authorization")?.value).toBe("Bearer [redacted]");
  });

  it("records the request body of a submit, refusals with the API's error body, and unknown routes", async () => {
    const submit = await http(`${emu.baseUrl}/htc/projects/${projectId}/tasks/${taskId}/jobs/batch?group=g1`, {
      method: "POST",
      headers: { Authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify([
        {
          jobName: "secretive",
          batchSize: 2,
          htcJobDefinition: {
            imageName: "htcemu/shell:1",
            commands: ["echo", "hi"],
            envs: [
              { name: "MY_API_TOKEN", value: "tok-123456" },
              { name: "PLAIN", value: "visible" },
            ],
          },
        },
      ]),
    });
    expect(submit.status).toBe(200);
    const entry = await latest("submitJobs");
    expect(entry.query).toBe("group=g1");
    const sent = JSON.parse(entry.requestBody!.text!);
    expect(sent[0].htcJobDefinition.envs).toEqual([
      { name: "MY_API_TOKEN", value: "[redacted]" },
      { name: "PLAIN", value: "visible" },
    ]);
    expect(entry.requestBody!.text).not.toContain("tok-123456");
    expect(entry.responseBody!.text).not.toContain("tok-123456");

    await http(`${emu.baseUrl}/htc/projects/no-such-project`, { headers: { Authorization: `Bearer ${bearer}` } });
    const missing = await latest("getProject");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.responseBody!.text!).error).toBe("not_found");

    await http(`${emu.rootUrl}/api/v1/no/such/route`);
    const { items } = await list("path=/no/such/route");
    expect(items[0]).toMatchObject({ operationId: null, api: "htc", status: 404 });
  });

  it("redacts API keys, tokens and storage credentials in bodies, headers, paths and presigned URLs", async () => {
    const user = await http(`${admin}/workspaces/${emu.workspaceId}/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "second@example.com", fullName: "Second", apiKey: "second-user-key-1234" }),
    });
    expect(user.status).toBe(201);
    const created = await latest("createUser");
    expect(created.requestBody!.text).not.toContain("second-user-key-1234");
    expect(JSON.parse(created.responseBody!.text!).apiKeys).toEqual(["[redacted]"]);

    const del = await http(`${admin}/api-keys/second-user-key-1234`, { method: "DELETE" });
    expect(del.status).toBe(204);
    const deleted = await latest("deleteApiKey");
    expect(deleted.path).toBe("/_emulator/v1/api-keys/[redacted]");

    const storage = await http(`${emu.baseUrl}/htc/projects/${projectId}/tasks/${taskId}/storage/token`, {
      headers: { Authorization: `Bearer ${bearer}` },
    });
    expect(storage.status).toBe(200);
    const credentials = (storage.body as { credentials: Record<string, string> }).credentials;
    const recorded = await latest("getTaskStorageToken");
    for (const secret of Object.values(credentials)) expect(recorded.responseBody!.text).not.toContain(secret);
    expect(JSON.parse(recorded.responseBody!.text!).credentials.AWS_SECRET_ACCESS_KEY).toBe("[redacted]");

    const presigned = await http(`${emu.baseUrl}/htc/projects/${projectId}/tasks/${taskId}/storage/presigned-url?filePath=in/a.txt`, {
      headers: { Authorization: `Bearer ${bearer}` },
    });
    expect(presigned.status).toBe(200);
    const url = (presigned.body as { url: string }).url;
    const signature = new URL(url).searchParams.get("X-Amz-Signature")!;
    const put = await fetch(url, { method: "PUT", body: "hello" });
    expect(put.status).toBe(200);
    const recordedUrl = await latest("getTaskPresignedUrl");
    expect(recordedUrl.responseBody!.text).not.toContain(signature);
    expect(recordedUrl.responseBody!.text).toContain("X-Amz-Signature=%5Bredacted%5D");
    const { items } = await list("api=s3&method=PUT");
    expect(items[0]!.query).not.toContain(signature);
    expect(items[0]!.query).toContain("X-Amz-Signature=%5Bredacted%5D");
    const s3 = await detail(items[0]!.id);
    expect(s3.requestBody).toMatchObject({ size: 5, omitted: expect.any(String) });
  });

  it("records each request's own headers on a kept-alive connection, repeated or changed", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(`${emu.baseUrl}/htc/projects/${projectId}`);
        request(url, { agent, headers: { Authorization: `Bearer ${bearer}`, ...headers } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
          .on("error", reject)
          .end();
      });
    try {
      expect(await get({ "X-Trace": "one" })).toBe(200);
      expect(await get({ "X-Trace": "one" })).toBe(200);
      expect(await get({ "X-Trace": "two" })).toBe(200);
    } finally {
      agent.destroy();
    }
    const { items } = await list("operationId=getProject&limit=3");
    const traces = await Promise.all(
      items.map(async (item) => (await detail(item.id)).requestHeaders.find((h) => h.name.toLowerCase() === "x-trace")?.value),
    );
    expect(traces).toEqual(["two", "one", "one"]);
    const auth = (await detail(items[0]!.id)).requestHeaders.find((h) => h.name.toLowerCase() === "authorization");
    expect(auth?.value).toBe("Bearer [redacted]");
  });

  it("cuts a kept text at the limit without splitting a surrogate pair", () => {
    expect(keptText("abc", 5)).toBe("abc");
    expect(keptText("abcdef", 3)).toBe("abc");
    expect(keptText("ab\u{1F600}cd", 3)).toBe("ab");
    expect(keptText("ab\u{1F600}cd", 4)).toBe("ab\u{1F600}");
  });

  it("redacts cut JSON bodies member by member", () => {
    const cut = '{"items":[{"apiKey":"abcdefgh12345","name":"x"},{"tokenValue":"eyJhbGciOi';
    const out = redactJsonText(cut, false);
    expect(out).not.toContain("abcdefgh12345");
    expect(out).not.toContain("eyJhbGciOi");
    expect(out).toContain('"name":"x"');
    expect(redactQuery("a=1&X-Amz-Credential=AKIA%2F1&token=t")).toBe("a=1&X-Amz-Credential=%5Bredacted%5D&token=%5Bredacted%5D");
  });

  it("marks the dashboard's requests and filters by status, method, path, API and dashboard", async () => {
    await http(`${admin}/clock`, { headers: { "X-HTC-Emulator-Client": "dashboard" } });
    const mine = await latest("getClock");
    expect(mine.fromDashboard).toBe(true);
    const withoutDashboard = await list("operationId=getClock&dashboard=false");
    expect(withoutDashboard.items.every((i) => !i.fromDashboard)).toBe(true);
    const errors = await list("status=4xx");
    expect(errors.items.length).toBeGreaterThan(0);
    expect(errors.items.every((i) => i.status >= 400 && i.status < 500)).toBe(true);
    const bad = await http(`${admin}/inspector/requests?status=abc`);
    expect(bad.status).toBe(400);
    expect((bad.body as { errorDescription: string }).errorDescription).toMatch(/^status/);
    const missing = await http(`${admin}/inspector/requests/999999`);
    expect(missing.status).toBe(404);
  });

  it("does not record its own operations or the dashboard's files", async () => {
    const before = (await list()).recorded;
    await list();
    await http(`${admin}/inspector`);
    await http(`${emu.rootUrl}/ui/`);
    expect((await list()).recorded).toBe(before);
  });
});

describe("streams", () => {
  it("keeps a snapshot download streaming and records its size when it ends", async () => {
    const response = await fetch(`${admin}/snapshot`);
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes[0]).toBe(0x1f); // gzip
    const entry = await latest("exportSnapshot");
    expect(entry.complete).toBe(true);
    expect(entry.responseSize).toBe(bytes.byteLength);
    expect(entry.responseBody).toMatchObject({ omitted: "binary" });
  });

  it("follows new requests live, and resumes after Last-Event-ID", async () => {
    const controller = new AbortController();
    const response = await fetch(`${admin}/inspector/stream?operationId=getClock`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += value;
      }
    };
    await until(/event: ready/);
    await http(`${admin}/clock`);
    await until(/event: request\ndata: .*"operationId":"getClock".*\nid: (\d+)/);
    controller.abort();
    const id = Number(/event: request\ndata: .*\nid: (\d+)/.exec(text)![1]);

    await http(`${admin}/clock`);
    const resumed = new AbortController();
    const again = await fetch(`${admin}/inspector/stream?operationId=getClock`, {
      signal: resumed.signal,
      headers: { "Last-Event-ID": String(id) },
    });
    const reader2 = again.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text2 = "";
    while (!/event: request\ndata: .*\nid: \d+/.test(text2)) text2 += (await reader2.read()).value ?? "";
    resumed.abort();
    expect(Number(/id: (\d+)/.exec(text2)![1])).toBeGreaterThan(id);
  });

  it("exports HAR 1.2 with the same redactions", async () => {
    const response = await fetch(`${admin}/inspector/har?operationId=getTaskStorageToken`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/attachment; filename="htc-emulator-.*\.har"/);
    const har = (await response.json()) as {
      log: {
        version: string;
        entries: {
          request: { url: string; headers: { name: string; value: string }[] };
          response: { status: number; content: { text: string } };
        }[];
      };
    };
    expect(har.log.version).toBe("1.2");
    expect(har.log.entries.length).toBeGreaterThan(0);
    const entry = har.log.entries[0]!;
    expect(entry.request.url).toContain(`/tasks/${taskId}/storage/token`);
    expect(entry.request.headers.find((h) => h.name.toLowerCase() === "authorization")?.value).toBe("Bearer [redacted]");
    expect(JSON.parse(entry.response.content.text).credentials.AWS_SESSION_TOKEN).toBe("[redacted]");
  });
});

describe("bounds", () => {
  it("keeps at most --inspector-size requests and cuts bodies at --inspector-body-limit", async () => {
    const small = await startEmulator({ executor: "simulated", registry: "off", inspectorSize: 5, inspectorBodyLimit: 40 });
    try {
      for (let i = 0; i < 12; i++) await fetch(`${small.rootUrl}/_emulator/v1/clock`);
      const { body } = await http(`${small.rootUrl}/_emulator/v1/inspector/requests`);
      const page = body as { items: Summary[]; held: number; recorded: number };
      expect(page.held).toBe(5);
      expect(page.recorded).toBe(12);
      expect(page.items.map((i) => i.id)).toEqual([12, 11, 10, 9, 8]);
      const first = await http(`${small.rootUrl}/_emulator/v1/inspector/requests/1`);
      expect(first.status).toBe(404);
      await fetch(`${small.rootUrl}/_emulator/v1/workspaces`);
      const last = (await http(`${small.rootUrl}/_emulator/v1/inspector/requests/13`)).body as Detail;
      expect(last.responseBody!.truncated).toBe(true);
      expect(last.responseBody!.text!.length).toBeLessThanOrEqual(40);
      expect(last.responseBody!.size).toBeGreaterThan(40);
      const cleared = await http(`${small.rootUrl}/_emulator/v1/inspector/requests`, { method: "DELETE" });
      expect(cleared.status).toBe(204);
      expect(((await http(`${small.rootUrl}/_emulator/v1/inspector/requests`)).body as { held: number }).held).toBe(0);
    } finally {
      await small.stop();
    }
  });

  it("records nothing with --inspector-size 0", async () => {
    const off = await startEmulator({ executor: "simulated", registry: "off", inspectorSize: 0 });
    try {
      await fetch(`${off.rootUrl}/_emulator/v1/clock`);
      const { body } = await http(`${off.rootUrl}/_emulator/v1/inspector`);
      expect(body).toEqual({ capacity: 0, bodyLimit: 16384, held: 0, recorded: 0 });
    } finally {
      await off.stop();
    }
  });
});

describe("contract violations", () => {
  it("records what --strict found off-contract, with the answer it sent instead", async () => {
    const app = new Hono<AppEnv>();
    const inspector = new Inspector(10, 1000);
    // The operation frame as the app builds it with --strict and the inspector on (its counters faked).
    const counters = { incEmulatorSeries: () => {}, incSeries: () => {} };
    const plain = operationFrame({ core: { counters }, inspector } as never, { strict: true, logRequests: false, log: () => {} });
    const frame = new Recorder(inspector).frame(plain);
    // An admin operation answering off its contract: `now` must be a date-time string, `speed` is missing.
    const operation = { operationId: "getClock", api: "admin" } as const;
    app.get("/_emulator/v1/clock", (c) => {
      c.set("operation", operation);
      return frame(c, operation, (c) => jsonAnswer(c, { now: 5 }, 200));
    });
    const response = await app.request("/_emulator/v1/clock");
    expect(response.status).toBe(500);
    const [entry] = [...inspector.newestFirst()];
    const detail = inspector.detailOf(entry!);
    expect(detail.status).toBe(500);
    expect(detail.violations.length).toBeGreaterThan(0);
    expect(detail.violations.map((v) => v.in)).toContain("body");
    expect(JSON.parse(detail.responseBody!.text!).error).toBe("contract_violation");
    expect(inspector.summaryOf(entry!).violations).toEqual(detail.violations);
    const violating = [...inspector.newestFirst({ violations: true })];
    expect(violating.length).toBe(1);
  });
});
