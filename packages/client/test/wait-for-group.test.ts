import { afterEach, describe, expect, it } from "vitest";
import { createHtcClient, type GroupSummary, HtcTimeoutError, isTerminalStatus, waitForGroup } from "../src/index.js";
import { type Fixture, startFixture } from "./fixture.js";

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const statuses = (s: Partial<Record<string, number>>) => ({
  SUBMITTED_TO_RESCALE: 0,
  SUBMITTED_TO_PROVIDER: 0,
  RUNNABLE: 0,
  STARTING: 0,
  RUNNING: 0,
  SUCCEEDED: 0,
  FAILED: 0,
  ...s,
});

describe("waitForGroup", () => {
  it("polls the group's statistics, reporting progress, until SUCCEEDED + FAILED = total", async () => {
    const frames = [
      statuses({ SUBMITTED_TO_RESCALE: 10 }),
      statuses({ RUNNING: 6, SUCCEEDED: 3, FAILED: 1 }),
      statuses({ SUCCEEDED: 8, FAILED: 2 }),
    ];
    fx = await startFixture((req) => {
      if (!req.path.endsWith("/htc/projects/P/tasks/T/group-summary-statistics")) return undefined;
      const jobStatuses = frames.shift() ?? statuses({ SUCCEEDED: 99 });
      return {
        body: {
          items: [
            { group: "other", jobStatuses: statuses({ RUNNING: 5 }) },
            { group: "g1", jobStatuses },
          ],
        },
      };
    });
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const seen: GroupSummary[] = [];
    const final = await waitForGroup(client, { projectId: "P", taskId: "T", group: "g1", intervalMs: 20, onProgress: (s) => seen.push(s) });

    expect(seen.map((s) => [s.total, s.succeeded, s.failed, s.active, s.done])).toEqual([
      [10, 0, 0, 10, false],
      [10, 3, 1, 6, false],
      [10, 8, 2, 0, true],
    ]);
    expect(final).toEqual(seen[2]);
    expect(final.group).toBe("g1");
    expect(final.jobStatuses["SUCCEEDED"]).toBe(8);
    expect(fx.requests.map((r) => r.url.searchParams.getAll("group"))).toEqual([["g1"], ["g1"], ["g1"]]);
  });

  it("waits for the task summary when no group is given", async () => {
    let n = 0;
    fx = await startFixture((req) => {
      if (!req.path.endsWith("/tasks/T/summary-statistics")) return undefined;
      n++;
      return { body: { group: null, jobStatuses: n < 2 ? statuses({ RUNNING: 2 }) : statuses({ SUCCEEDED: 1, FAILED: 1 }) } };
    });
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const final = await waitForGroup(client, { projectId: "P", taskId: "T", intervalMs: 10 });
    expect(final).toMatchObject({ group: null, total: 2, succeeded: 1, failed: 1, done: true });
    expect(n).toBe(2);
  });

  it("keeps waiting while the server has not counted all expected jobs yet", async () => {
    const frames = [{}, statuses({ SUCCEEDED: 2 }), statuses({ SUCCEEDED: 5 })];
    fx = await startFixture(() => ({ body: { items: [{ group: "g", jobStatuses: frames.shift() }] } }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const final = await waitForGroup(client, { projectId: "P", taskId: "T", group: "g", expectedJobs: 5, intervalMs: 10 });
    expect(final).toMatchObject({ total: 5, succeeded: 5, done: true });
    expect(fx.requests).toHaveLength(3);
  });

  it("gives up after timeoutMs with HtcTimeoutError", async () => {
    fx = await startFixture(() => ({ body: { items: [{ group: "g", jobStatuses: statuses({ RUNNING: 1 }) }] } }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const started = Date.now();
    const error = await waitForGroup(client, { projectId: "P", taskId: "T", group: "g", intervalMs: 50, timeoutMs: 200 }).catch((e) => e);
    expect(error).toBeInstanceOf(HtcTimeoutError);
    expect(error.message).toContain("0/1 done");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fx.requests.length).toBeGreaterThanOrEqual(1);
  });

  it("stops sleeping as soon as the signal aborts", async () => {
    fx = await startFixture(() => ({ body: { items: [] } }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await waitForGroup(client, {
      projectId: "P",
      taskId: "T",
      group: "g",
      intervalMs: 60_000,
      signal: controller.signal,
    }).catch((e) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(10_000); // far sooner than the next poll
  });
});

describe("isTerminalStatus", () => {
  it("knows which statuses end a job", () => {
    expect(["SUCCEEDED", "FAILED", "POD_SUCCEEDED", "POD_FAILED"].every(isTerminalStatus)).toBe(true);
    expect(["SUBMITTED_TO_RESCALE", "SUBMITTED_TO_PROVIDER", "RUNNABLE", "STARTING", "RUNNING"].some(isTerminalStatus)).toBe(false);
    expect(isTerminalStatus(undefined)).toBe(false);
    expect(isTerminalStatus(null)).toBe(false);
  });
});
