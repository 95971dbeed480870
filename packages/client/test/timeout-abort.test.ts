import { afterEach, describe, expect, it } from "vitest";
import { createHtcClient, HtcTimeoutError, unwrap } from "../src/index.js";
import { type Fixture, startFixture, TokenIssuer } from "./fixture.js";

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe("timeouts", () => {
  it("ends an attempt after timeoutMs with HtcTimeoutError", async () => {
    fx = await startFixture(() => ({ delayMs: 30_000, body: {} }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", timeoutMs: 100, retry: false });
    const started = Date.now();
    const error = await client.api.GET("/htc/projects").catch((e) => e);
    expect(error).toBeInstanceOf(HtcTimeoutError);
    expect(error.timeoutMs).toBe(100);
    expect(error.request).toEqual({ method: "GET", url: `${fx.baseUrl}/htc/projects` });
    expect(Date.now() - started).toBeLessThan(10_000); // far sooner than the answer or the backoff
  });

  it("retries a timed-out GET, each attempt with a fresh budget", async () => {
    let n = 0;
    fx = await startFixture(() => (++n === 1 ? { delayMs: 10_000, body: {} } : { body: { items: [] } }));
    // The budget must outlast a prompt answer on a loaded machine (150 ms once timed out the second attempt too).
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", timeoutMs: 1500, retry: { minDelayMs: 10, maxDelayMs: 10 } });
    const page = await unwrap(client.api.GET("/htc/projects"));
    expect(page).toEqual({ items: [] });
    expect(fx.requests).toHaveLength(2);
  });

  it("bounds a custom fetch that ignores signals", async () => {
    const seen: string[] = [];
    const client = createHtcClient({
      baseUrl: "http://127.0.0.1:9/api/v1",
      bearerToken: "t",
      timeoutMs: 50,
      retry: false,
      fetch: (request) => {
        seen.push(`${request.method} ${request.url} ${request.headers.get("authorization")}`);
        return new Promise<Response>(() => {});
      },
    });
    await expect(client.api.GET("/htc/projects")).rejects.toBeInstanceOf(HtcTimeoutError);
    expect(seen).toEqual(["GET http://127.0.0.1:9/api/v1/htc/projects Bearer t"]);
  });
});

describe("AbortSignal", () => {
  it("aborts an in-flight request", async () => {
    fx = await startFixture(() => ({ delayMs: 30_000, body: {} }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await client.api.GET("/htc/projects", { signal: controller.signal }).catch((e) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(10_000); // far sooner than the answer or the backoff
  });

  it("aborts the wait between retries", async () => {
    fx = await startFixture(() => ({ status: 503 }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: { minDelayMs: 30_000, maxDelayMs: 30_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await client.api.GET("/htc/projects", { signal: controller.signal }).catch((e) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(10_000); // far sooner than the answer or the backoff
    expect(fx.requests).toHaveLength(1);
  });

  it("aborts a request waiting for the token exchange, with the caller's reason", async () => {
    const tokens = new TokenIssuer({ delayMs: 3000 });
    fx = await startFixture((req) => tokens.handle(req) ?? { body: {} });
    const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "test-key" });
    const controller = new AbortController();
    const reason = new Error("user gave up");
    setTimeout(() => controller.abort(reason), 50);
    const error = await client.api.GET("/htc/projects", { signal: controller.signal }).catch((e) => e);
    expect(error).toBe(reason);
    expect(fx.calls("/htc/projects")).toHaveLength(0);
  });

  it("rejects at once when the signal is already aborted", async () => {
    fx = await startFixture(() => ({ body: {} }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const error = await client.api.GET("/htc/projects", { signal: AbortSignal.abort() }).catch((e) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(fx.requests).toHaveLength(0);
  });
});
