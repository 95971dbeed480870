import { afterEach, describe, expect, it } from "vitest";
import { createHtcClient, HtcApiError, TokenManager, unwrap } from "../src/index.js";
import { type Fixture, type FixtureRequest, startFixture, TokenIssuer } from "./fixture.js";

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const project = (req: FixtureRequest) => ({ body: { projectId: req.path.split("/").pop(), projectName: "p", projectDescription: "d" } });

function getProject(client: ReturnType<typeof createHtcClient>, projectId = "p1") {
  return unwrap(client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId } } }));
}

describe("API key exchange", () => {
  it("exchanges the key once with `Token <key>` and caches the bearer token", async () => {
    const tokens = new TokenIssuer({ apiKey: "k-123" });
    fx = await startFixture((req) => tokens.handle(req) ?? tokens.reject(req) ?? project(req));
    const client = createHtcClient({ baseUrl: `${fx.baseUrl}/`, apiKey: "k-123" });

    expect((await getProject(client, "a")).projectId).toBe("a");
    await getProject(client, "b");
    await getProject(client, "c");

    const exchanges = fx.calls("/auth/token");
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]?.authorization).toBe("Token k-123");
    expect(exchanges[0]?.path).toBe("/api/v1/auth/token");
    const apiCalls = fx.calls("/htc/projects/a").concat(fx.calls("/htc/projects/c"));
    expect(apiCalls.map((r) => r.authorization)).toEqual(["Bearer tok-1", "Bearer tok-1"]);
    expect(fx.requests.every((r) => r.headers["user-agent"]?.startsWith("htcemu-client/"))).toBe(true);
  });

  it("sends the API key itself, not a bearer token, to /auth/token and /auth/whoami", async () => {
    fx = await startFixture((req) => ({ body: { tokenValue: "t", expiresIn: 3600, seen: req.authorization } }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "k" });
    await client.api.GET("/auth/whoami");
    await client.api.GET("/auth/token");
    expect(fx.requests.map((r) => `${r.path} ${r.authorization}`)).toEqual(["/api/v1/auth/whoami Token k", "/api/v1/auth/token Token k"]);
  });

  it("uses `Refresh <token>` for a refresh-token credential", async () => {
    const tokens = new TokenIssuer({ refreshToken: "r-1" });
    fx = await startFixture((req) => tokens.handle(req) ?? tokens.reject(req) ?? project(req));
    const client = createHtcClient({ baseUrl: fx.baseUrl, refreshToken: "r-1" });
    await getProject(client);
    expect(fx.calls("/auth/token")[0]?.authorization).toBe("Refresh r-1");
    expect(fx.calls("/htc/projects/p1")[0]?.authorization).toBe("Bearer tok-1");
  });

  it("renews the token once less than the margin (10% of its life) remains", async () => {
    const tokens = new TokenIssuer({ expiresIn: 1 });
    fx = await startFixture((req) => tokens.handle(req) ?? tokens.reject(req) ?? project(req));
    const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "test-key" });

    await getProject(client);
    await getProject(client);
    expect(tokens.exchanges).toBe(1);
    await new Promise((r) => setTimeout(r, 950)); // inside the last 100 ms of a 1 s token
    await getProject(client);
    expect(tokens.exchanges).toBe(2);
    expect(fx.calls("/htc/projects/p1").map((r) => r.authorization)).toEqual(["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]);
  });

  it("runs one exchange for many concurrent requests", async () => {
    const tokens = new TokenIssuer({ delayMs: 100 });
    fx = await startFixture((req) => tokens.handle(req) ?? tokens.reject(req) ?? project(req));
    const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "test-key" });
    const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const results = await Promise.all(ids.map((id) => getProject(client, id)));
    expect(results.map((p) => p.projectId)).toEqual(ids);
    expect(tokens.exchanges).toBe(1);
    expect(
      new Set(
        fx
          .calls("", "GET")
          .filter((r) => r.path.includes("/htc/"))
          .map((r) => r.authorization),
      ),
    ).toEqual(new Set(["Bearer tok-1"]));
  });

  it("on a 401 refreshes once and replays the request, POST body intact", async () => {
    const tokens = new TokenIssuer();
    fx = await startFixture((req) => {
      if (req.path.endsWith("/auth/token")) return tokens.handle(req);
      const rejected = tokens.reject(req);
      if (rejected) return rejected;
      return req.method === "POST" ? { body: { ...JSON.parse(req.body), projectId: "new" } } : project(req);
    });
    const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "test-key" });
    await getProject(client); // caches tok-1
    tokens.revokeAll(); // the server forgets tok-1 (e.g. restarted)

    const created = await unwrap(
      client.api.POST("/htc/projects", { body: { projectName: "replayed", projectDescription: "body survives" } }),
    );
    expect(created).toMatchObject({ projectId: "new", projectName: "replayed", projectDescription: "body survives" });
    const posts = fx.calls("/htc/projects", "POST");
    expect(posts.map((r) => r.authorization)).toEqual(["Bearer tok-1", "Bearer tok-2"]);
    expect(posts.map((r) => JSON.parse(r.body))).toEqual([
      { projectName: "replayed", projectDescription: "body survives" },
      { projectName: "replayed", projectDescription: "body survives" },
    ]);
    expect(tokens.exchanges).toBe(2);
  });

  it("does not loop when the server keeps answering 401", async () => {
    const tokens = new TokenIssuer();
    fx = await startFixture((req) => tokens.handle(req) ?? { status: 401, body: { error: "invalid_token", errorDescription: "no" } });
    const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "test-key" });
    const error = await getProject(client).catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error.status).toBe(401);
    expect(error.errorType).toBe("invalid_token");
    expect(fx.calls("/htc/projects/p1")).toHaveLength(2);
    expect(tokens.exchanges).toBe(2);
  });

  it("surfaces a rejected API key as HtcApiError without retrying the exchange", async () => {
    const tokens = new TokenIssuer({ apiKey: "right" });
    fx = await startFixture((req) => tokens.handle(req) ?? project(req));
    const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "wrong" });
    const error = await getProject(client).catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error).toMatchObject({ status: 401, errorType: "invalid_token", errorDescription: "unknown API key" });
    expect(error.request).toEqual({ method: "GET", url: `${fx.baseUrl}/auth/token` });
    expect(fx.calls("/auth/token")).toHaveLength(1);
    expect(fx.calls("/htc/projects/p1")).toHaveLength(0);
  });

  it("uses a ready bearer token as is: no exchange, and a 401 is final", async () => {
    fx = await startFixture((req) =>
      req.authorization === "Bearer job-token" && req.path.endsWith("/p1") ? project(req) : { status: 401 },
    );
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "job-token" });
    expect((await getProject(client, "p1")).projectId).toBe("p1");
    const error = await getProject(client, "p2").catch((e) => e);
    expect(error).toBeInstanceOf(HtcApiError);
    expect(error.status).toBe(401);
    expect(fx.calls("/auth/token")).toHaveLength(0);
    expect(fx.calls("/htc/projects/p2")).toHaveLength(1);
  });

  it("keeps an explicit Authorization header and never sends credentials to another origin", async () => {
    const other = await startFixture(() => ({ body: { ok: true } }));
    const tokens = new TokenIssuer();
    fx = await startFixture((req) => tokens.handle(req) ?? { body: { seen: req.authorization ?? null } });
    try {
      const client = createHtcClient({ baseUrl: fx.baseUrl, apiKey: "test-key" });
      await client.api.GET("/htc/projects/{projectId}", {
        params: { path: { projectId: "x" } },
        headers: { Authorization: "Bearer mine" },
      });
      await client.fetch(new Request(`${other.origin}/elsewhere`));
      expect(fx.calls("/htc/projects/x")[0]?.authorization).toBe("Bearer mine");
      expect(other.requests[0]?.authorization).toBeUndefined();
      expect(tokens.exchanges).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("accepts a custom auth provider", async () => {
    fx = await startFixture((req) => (req.authorization === "Custom abc" ? project(req) : { status: 401 }));
    const seen: string[] = [];
    const client = createHtcClient({
      baseUrl: fx.baseUrl,
      auth: {
        authorize: (r) => {
          seen.push(`${r.method} ${r.path}`);
          return "Custom abc";
        },
      },
    });
    await getProject(client, "z");
    expect(seen).toEqual(["GET /htc/projects/z"]);
  });
});

describe("TokenManager", () => {
  function manager(expiresIn: number, clock: { now: number }, extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}) {
    let n = 0;
    const fetch = async () => {
      n++;
      return Response.json({ tokenValue: `t${n}`, expiresIn });
    };
    const tm = new TokenManager({
      baseUrl: "http://127.0.0.1:1/api/v1",
      credential: { apiKey: "k" },
      fetch,
      now: () => clock.now,
      ...extra,
    });
    return { tm, exchanges: () => n };
  }

  it("sets the deadline from the request start and renews within min(10%, 5 min) of it", async () => {
    const clock = { now: 1_000_000 };
    const { tm, exchanges } = manager(21_600, clock); // 6 h: margin capped at 5 min
    expect(await tm.getToken()).toBe("t1");
    expect(tm.token?.expiresAt).toBe(1_000_000 + 21_600_000);
    expect(tm.token?.refreshAt).toBe(1_000_000 + 21_600_000 - 300_000);
    clock.now += 21_600_000 - 300_001;
    expect(await tm.getToken()).toBe("t1");
    clock.now += 2;
    expect(await tm.getToken()).toBe("t2");
    expect(exchanges()).toBe(2);
  });

  it("uses 10% of a short lifetime as the margin", async () => {
    const clock = { now: 0 };
    const { tm } = manager(60, clock);
    await tm.getToken();
    expect(tm.token?.refreshAt).toBe(54_000);
  });

  it("keeps serving a still-valid token when an early renewal fails", async () => {
    const clock = { now: 0 };
    let fail = false;
    const tm = new TokenManager({
      baseUrl: "http://127.0.0.1:1/api/v1",
      credential: { apiKey: "k" },
      now: () => clock.now,
      fetch: async () => (fail ? new Response("", { status: 503 }) : Response.json({ tokenValue: "t", expiresIn: 100 })),
    });
    await tm.getToken();
    fail = true;
    clock.now = 95_000; // in the margin, not expired
    expect(await tm.getToken()).toBe("t");
    clock.now = 100_001; // expired: the failure surfaces
    await expect(tm.getToken()).rejects.toBeInstanceOf(HtcApiError);
  });

  it("lets one caller abort its wait without cancelling the shared exchange", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const tm = new TokenManager({
      baseUrl: "http://127.0.0.1:1/api/v1",
      credential: { apiKey: "k" },
      fetch: async () => {
        await gate;
        return Response.json({ tokenValue: "shared", expiresIn: 100 });
      },
    });
    const controller = new AbortController();
    const aborted = tm.getToken({ signal: controller.signal });
    const other = tm.getToken();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    release();
    expect(await other).toBe("shared");
  });
});
