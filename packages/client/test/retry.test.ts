import { afterEach, describe, expect, it } from "vitest";
import { createHtcClient, DEFAULT_RETRY, HtcApiError, HtcNetworkError, unwrap } from "../src/index.js";
import { backoffDelay, parseRetryAfter } from "../src/retry.js";
import { type Fixture, type FixtureReply, startFixture } from "./fixture.js";

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** Answers the scripted replies in order, then 200 {ok:true}. */
function script(...replies: FixtureReply[]) {
  return () => replies.shift() ?? { body: { projectId: "ok", projectName: "n", projectDescription: "d" } };
}

const fast = { minDelayMs: 20, maxDelayMs: 40 };

describe("retries", () => {
  it("retries a GET on 503 and 502 with growing backoff, then succeeds", async () => {
    fx = await startFixture(script({ status: 503 }, { status: 502 }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: { minDelayMs: 100, maxDelayMs: 1000 } });
    const started = Date.now();
    const project = await unwrap(client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: "p" } } }));
    expect(project.projectId).toBe("ok");
    expect(fx.requests).toHaveLength(3);
    // Equal jitter: at least half of 100 ms, then half of 200 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it("honours Retry-After on 429 instead of its own (here tiny) backoff", async () => {
    fx = await startFixture(script({ status: 429, headers: { "Retry-After": "1" } }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: { minDelayMs: 1, maxDelayMs: 1 } });
    const started = Date.now();
    const { response } = await client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: "p" } } });
    const elapsed = Date.now() - started;
    expect(response.status).toBe(200);
    expect(fx.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(10_000);
  });

  it("gives up when Retry-After exceeds maxRetryAfterMs and returns the 429", async () => {
    fx = await startFixture(
      script({ status: 429, headers: { "Retry-After": "120" }, body: { error: "slow_down", errorDescription: "later" } }),
    );
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: fast });
    const error = await unwrap(client.api.GET("/htc/projects")).catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error.status).toBe(429);
    expect(fx.requests).toHaveLength(1);
  });

  it("stops after `retries` extra attempts and reports the last status", async () => {
    fx = await startFixture(() => ({ status: 503, body: { error: "unavailable", errorDescription: "down" } }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: { ...fast, retries: 2 } });
    const error = await unwrap(client.api.GET("/htc/projects")).catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error).toMatchObject({ status: 503, errorType: "unavailable", errorDescription: "down" });
    expect(fx.requests).toHaveLength(3);
  });

  it("never retries a POST by default", async () => {
    fx = await startFixture(script({ status: 503 }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: fast });
    const { response } = await client.api.POST("/htc/projects", { body: { projectName: "a", projectDescription: "b" } });
    expect(response.status).toBe(503);
    expect(fx.requests).toHaveLength(1);
  });

  it("retries a POST when the caller opts in, replaying the body", async () => {
    fx = await startFixture(script({ status: 503 }));
    const client = createHtcClient({
      baseUrl: fx.baseUrl,
      bearerToken: "t",
      retry: { ...fast, methods: [...DEFAULT_RETRY.methods, "POST"] },
    });
    const { response } = await client.api.POST("/htc/projects", { body: { projectName: "a", projectDescription: "b" } });
    expect(response.status).toBe(200);
    expect(fx.requests.map((r) => r.body)).toEqual([
      '{"projectName":"a","projectDescription":"b"}',
      '{"projectName":"a","projectDescription":"b"}',
    ]);
  });

  it("retries network errors on GET and raises HtcNetworkError once retries run out", async () => {
    fx = await startFixture(script({ destroy: true }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: fast });
    const { response } = await client.api.GET("/htc/projects");
    expect(response.status).toBe(200);
    expect(fx.requests).toHaveLength(2);

    const dead = createHtcClient({ baseUrl: "http://127.0.0.1:9/api/v1", bearerToken: "t", retry: { ...fast, retries: 1 } });
    const error = await dead.api.GET("/htc/projects").catch((e) => e);
    expect(error).toBeInstanceOf(HtcNetworkError);
    expect(error.request).toEqual({ method: "GET", url: "http://127.0.0.1:9/api/v1/htc/projects" });
  });

  it("does not retry a POST after a network error", async () => {
    fx = await startFixture(script({ destroy: true }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: fast });
    const error = await client.api.POST("/htc/projects", { body: { projectName: "a", projectDescription: "b" } }).catch((e) => e);
    expect(error).toBeInstanceOf(HtcNetworkError);
    expect(fx.requests).toHaveLength(1);
  });

  it("can be switched off", async () => {
    fx = await startFixture(script({ status: 503 }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: false });
    const { response } = await client.api.GET("/htc/projects");
    expect(response.status).toBe(503);
    expect(fx.requests).toHaveLength(1);
  });
});

describe("retry helpers", () => {
  it("parses Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter("0.5")).toBe(500);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("backs off exponentially within [ceiling/2, ceiling], capped by maxDelayMs", () => {
    const policy = { ...DEFAULT_RETRY, minDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, () => 1)).toBe(100);
    expect(backoffDelay(2, policy, () => 0)).toBe(200);
    expect(backoffDelay(2, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });
});
