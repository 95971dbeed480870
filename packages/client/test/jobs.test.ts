import { afterEach, describe, expect, it } from "vitest";
import {
  createHtcClient,
  HtcApiError,
  HtcSubmitError,
  type JobBatchRequest,
  jobId,
  parseJobId,
  type SubmitProgress,
  submitJobs,
} from "../src/index.js";
import { type Fixture, type FixtureRequest, startFixture } from "./fixture.js";

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const template = { jobName: "sweep", htcJobDefinition: { imageName: "app:v1", commands: ["run"] } };

/** Echoes each submitted batch with a parentJobId `b<n>` numbered across requests. */
function submitServer(failOnRequest?: number) {
  let parents = 0;
  let requestNo = 0;
  return (req: FixtureRequest) => {
    if (!req.path.endsWith("/jobs/batch")) return undefined;
    requestNo++;
    if (requestNo === failOnRequest) {
      return { status: 400, body: { errorType: "VALIDATION_ERROR", errorDescription: "[0].batchSize too big", message: null } };
    }
    const batches = JSON.parse(req.body) as JobBatchRequest[];
    return {
      body: batches.map((b) => ({ ...b, parentJobId: `b${++parents}`, group: req.url.searchParams.get("group") ?? undefined })),
    };
  };
}

describe("job ids", () => {
  it("builds and parses <parentJobId>:<index>", () => {
    expect(jobId("8f9db624-62de-44da-942f-edcc244f4fcb", 41)).toBe("8f9db624-62de-44da-942f-edcc244f4fcb:41");
    expect(parseJobId("8f9db624-62de-44da-942f-edcc244f4fcb:41")).toEqual({
      parentJobId: "8f9db624-62de-44da-942f-edcc244f4fcb",
      index: 41,
    });
    expect(parseJobId("a:b:0")).toEqual({ parentJobId: "a:b", index: 0 });
    for (const bad of ["nocolon", ":3", "p:", "p:-1", "p:1.5", "p:x"]) expect(() => parseJobId(bad)).toThrow(RangeError);
    expect(() => jobId("p", -1)).toThrow(RangeError);
    expect(() => jobId("", 0)).toThrow(RangeError);
  });
});

describe("submitJobs", () => {
  it("splits 250 000 jobs into 3 requests of 100 + 100 + 50 batches of 1000", async () => {
    fx = await startFixture(submitServer());
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const progress: SubmitProgress[] = [];
    const result = await submitJobs(client, {
      projectId: "P",
      taskId: "T",
      group: "sweep-1",
      template,
      count: 250_000,
      onProgress: (p) => progress.push(p),
    });

    const posts = fx.calls("/htc/projects/P/tasks/T/jobs/batch", "POST");
    expect(posts).toHaveLength(3);
    const bodies = posts.map((r) => JSON.parse(r.body) as JobBatchRequest[]);
    expect(bodies.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(bodies.flat().every((b) => b.batchSize === 1000 && b.htcJobDefinition.imageName === "app:v1")).toBe(true);
    expect(posts.every((r) => r.url.searchParams.get("group") === "sweep-1")).toBe(true);

    expect(result.totalJobs).toBe(250_000);
    expect(result.batches).toHaveLength(250);
    expect(result.batches[249]).toMatchObject({ parentJobId: "b250", batchSize: 1000 });
    expect(progress.map((p) => [p.requestsDone, p.batchesDone, p.jobsDone])).toEqual([
      [1, 100, 100_000],
      [2, 200, 200_000],
      [3, 250, 250_000],
    ]);

    const ids = result.jobIds();
    expect(ids.next().value).toBe("b1:0");
    let n = 1;
    let last: string | undefined;
    for (const id of ids) {
      n++;
      last = id;
    }
    expect(n).toBe(250_000);
    expect(last).toBe("b250:999");
  });

  it("sizes the last batch to the remainder", async () => {
    fx = await startFixture(submitServer());
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const result = await submitJobs(client, { projectId: "P", taskId: "T", template, count: 2_345, batchSize: 1000 });
    const body = JSON.parse(fx.calls("/jobs/batch")[0]?.body ?? "[]") as JobBatchRequest[];
    expect(body.map((b) => b.batchSize)).toEqual([1000, 1000, 345]);
    expect(fx.calls("/jobs/batch")[0]?.url.searchParams.has("group")).toBe(false);
    expect([...result.jobIds()]).toHaveLength(2_345);
    expect([...result.jobIds()].at(-1)).toBe("b3:344");
  });

  it("sends explicit batches in requests of at most batchesPerRequest", async () => {
    fx = await startFixture(submitServer());
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const batches = [5, 1, 7].map((batchSize) => ({ ...template, batchSize }));
    const result = await submitJobs(client, { projectId: "P", taskId: "T", batches, batchesPerRequest: 2 });
    expect(fx.calls("/jobs/batch").map((r) => (JSON.parse(r.body) as JobBatchRequest[]).map((b) => b.batchSize))).toEqual([[5, 1], [7]]);
    expect(result.totalJobs).toBe(13);
    expect([...result.jobIds()]).toEqual([
      ...["b1:0", "b1:1", "b1:2", "b1:3", "b1:4"],
      "b2:0",
      ...Array.from({ length: 7 }, (_, i) => `b3:${i}`),
    ]);
  });

  it("rejects out-of-range sizes before sending anything", async () => {
    fx = await startFixture(submitServer());
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    await expect(submitJobs(client, { projectId: "P", taskId: "T", template, count: 10, batchSize: 1001 })).rejects.toThrow(RangeError);
    await expect(submitJobs(client, { projectId: "P", taskId: "T", template, count: 0 })).rejects.toThrow(RangeError);
    await expect(submitJobs(client, { projectId: "P", taskId: "T", batches: [{ ...template, batchSize: 0 }] })).rejects.toThrow(RangeError);
    expect(fx.requests).toHaveLength(0);
  });

  it("reports the accepted batches when a later request fails", async () => {
    fx = await startFixture(submitServer(2));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const error = await submitJobs(client, { projectId: "P", taskId: "T", template, count: 150_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(HtcSubmitError);
    expect(error.submitted).toHaveLength(100);
    expect(error.cause).toBeInstanceOf(HtcApiError);
    expect(error.cause.errorType).toBe("VALIDATION_ERROR");
    expect(fx.calls("/jobs/batch")).toHaveLength(2);
  });

  it("throws the API error as is when the first request fails, and never retries the POST", async () => {
    fx = await startFixture(() => ({ status: 503 }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: { minDelayMs: 1, maxDelayMs: 1 } });
    const error = await submitJobs(client, { projectId: "P", taskId: "T", template, count: 5 }).catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error.status).toBe(503);
    expect(fx.requests).toHaveLength(1);
  });
});
