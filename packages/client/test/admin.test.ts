// The admin client (@htcemu/client/admin) against a scripted server: the paths and bodies it sends, durations,
// binary snapshots both ways, and errors as HtcApiError. (The emulator's own suites run it for real.)
import { afterEach, describe, expect, it } from "vitest";
import { createAdminClient, durationSeconds } from "../src/admin.js";
import { HtcApiError, HtcTimeoutError } from "../src/errors.js";
import { type Fixture, startFixture } from "./fixture.js";

let fixture: Fixture | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const clock = { now: "2030-01-01T00:00:00.000Z", speed: 1 };

describe("createAdminClient", () => {
  it("sends the test controls to /_emulator/v1 with their bodies", async () => {
    fixture = await startFixture((req) => {
      if (req.path.endsWith("/clock")) return { body: clock };
      if (req.path.endsWith("/faults") && req.method === "POST") return { status: 201, body: { id: "f1", ...JSON.parse(req.body) } };
      if (req.path.endsWith("/faults/f1")) return { body: { id: "f1" } };
      if (req.path.includes("/scheduler/")) return { body: { paused: req.path.endsWith("pause"), executing: 0, held: 0, stepped: 0 } };
      if (req.path.endsWith("/jobs/step")) return { body: { jobs: [] } };
      if (req.path.endsWith("/reset")) return { body: { workspaces: 0, users: 0, projects: 0, tasks: 0, jobs: 0, objects: 0 } };
      return undefined;
    });
    // A base URL ending in /api/v1 is accepted as well as the root.
    const admin = createAdminClient(fixture.baseUrl);
    expect(admin.baseUrl).toBe(`${fixture.origin}/_emulator/v1`);
    await admin.advanceClock({ days: 30, hours: 1 });
    await admin.setSpeed(60);
    expect(await admin.addFault({ api: { status: 429, retryAfterSeconds: 2 } })).toMatchObject({ id: "f1" });
    await admin.removeFault("f1");
    expect((await admin.pause()).paused).toBe(true);
    expect((await admin.resume()).paused).toBe(false);
    await admin.step({ projectId: "p", taskId: "t", to: "RUNNING" });
    await admin.reset("ws-1");
    await admin.reset();
    expect(fixture.requests.map((r) => `${r.method} ${r.path.replace("/_emulator/v1", "")} ${r.body}`)).toEqual([
      `POST /clock {"advanceSeconds":${30 * 86400 + 3600}}`,
      'POST /clock {"speed":60}',
      'POST /faults {"api":{"status":429,"retryAfterSeconds":2}}',
      "DELETE /faults/f1 ",
      "POST /scheduler/pause ",
      "POST /scheduler/resume ",
      'POST /jobs/step {"projectId":"p","taskId":"t","to":"RUNNING"}',
      'POST /reset {"workspaceId":"ws-1"}',
      "POST /reset {}",
    ]);
  });

  it("moves snapshots as bytes", async () => {
    const bytes = new Uint8Array([0x1f, 0x7b, 0, 1, 2, 127]); // ASCII: the fixture writes text
    fixture = await startFixture((req) => {
      if (req.method === "GET")
        return { headers: { "content-type": "application/octet-stream" }, body: Buffer.from(bytes).toString("utf8") };
      return { body: { workspaces: 1, projects: 0, tasks: 0, jobs: 0, objects: 0, clock, received: Buffer.from(req.body, "utf8").length } };
    });
    const admin = createAdminClient(fixture.origin);
    const exported = await admin.exportSnapshot();
    expect(exported.length).toBe(bytes.length);
    expect(await admin.importSnapshot(new Uint8Array([1, 2, 3]))).toMatchObject({ workspaces: 1 });
    expect(fixture.requests[1]!.headers["content-type"]).toBe("application/octet-stream");
  });

  it("throws HtcApiError with the error body", async () => {
    fixture = await startFixture(() => ({
      status: 400,
      body: { errorType: "SCHEDULER_NOT_PAUSED", errorDescription: "Pause the scheduler first.", message: null },
    }));
    const admin = createAdminClient(fixture.origin);
    const error = await admin.step({ projectId: "p", taskId: "t" }).catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error).toMatchObject({ status: 400, errorType: "SCHEDULER_NOT_PAUSED", request: { method: "POST" } });
    const raw = await admin.exportSnapshot().catch((e) => e);
    expect(raw).toBeInstanceOf(HtcApiError);
  });

  it("runs on the shared transport: a stream uploads unbuffered, requests time out, the client's signal aborts them", async () => {
    fixture = await startFixture((req) => {
      if (req.path.endsWith("/snapshot"))
        return { body: { workspaces: 1, projects: 0, tasks: 0, jobs: 0, objects: 0, clock, received: req.body } };
      return { delayMs: 5_000, body: clock };
    });
    const upload = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("part-1,"));
        controller.enqueue(new TextEncoder().encode("part-2"));
        controller.close();
      },
    });
    expect(await createAdminClient(fixture.origin).importSnapshot(upload)).toMatchObject({ received: "part-1,part-2" });
    // Streamed, so no Content-Length: the body was never buffered.
    expect(fixture.requests[0]!.headers["transfer-encoding"]).toBe("chunked");

    const slow = createAdminClient(fixture.origin, { timeoutMs: 100 });
    expect(await slow.clock().catch((e) => e)).toBeInstanceOf(HtcTimeoutError);

    const controller = new AbortController();
    const aborted = createAdminClient(fixture.origin, { signal: controller.signal }).clock();
    setTimeout(() => controller.abort(Object.assign(new Error("stop"), { name: "AbortError" })), 50);
    expect(await aborted.catch((e) => e)).toMatchObject({ name: "AbortError", message: "stop" });
  });

  it("adds up durations", () => {
    expect(durationSeconds(90)).toBe(90);
    expect(durationSeconds({ days: 1, hours: 2, minutes: 3, seconds: 4 })).toBe(93784);
  });
});
