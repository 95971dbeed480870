// The spec-checking proxy: in front of the real emulator (a client runs through it, answers come back byte for
// byte), in front of an echo server (requests go out unchanged, bodies streamed), and in front of a fake that
// drifts from the contract (the report counts each difference).
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHtcClient, unwrap } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DriftReport, formatDriftSummary, forwardPath, loadContract, runProxyCommand, startContractProxy } from "../src/index.js";
import { DEFAULT_DRIFT_REPORT } from "../src/proxy.js";
import { type SpawnedEmulator, spawnEmulator, validatingFetch } from "../src/testing.js";

const contract = loadContract();
const work = mkdtempSync(join(tmpdir(), "htc-contract-proxy-"));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** One exchange with node:http, so nothing (decompression, header merging) stands between us and the bytes. */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[] } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
      );
      res.once("error", reject);
    });
    req.once("error", reject);
    // Several writes without Content-Length: the body goes out chunked, in pieces.
    for (const chunk of Array.isArray(init.body) ? init.body : init.body ? [init.body] : []) req.write(chunk);
    req.end();
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Headers that legitimately differ between two answers of the same server. */
function comparableHeaders(rawHeaders: string[]): string[][] {
  const pairs: string[][] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === "date" || name === "connection" || name === "keep-alive") continue;
    pairs.push([name, rawHeaders[i + 1]!]);
  }
  return pairs;
}

describe("forwardPath", () => {
  it("prefixes the target's path unless the request already carries it", () => {
    expect(forwardPath(new URL("https://htc.example"), "/api/v1/htc/projects?pageSize=2")).toBe("/api/v1/htc/projects?pageSize=2");
    expect(forwardPath(new URL("https://htc.example/api/v1/"), "/api/v1/htc/projects")).toBe("/api/v1/htc/projects");
    expect(forwardPath(new URL("https://htc.example/api/v1"), "/auth/token")).toBe("/api/v1/auth/token");
    expect(forwardPath(new URL("https://htc.example/api/v1"), "/api/v1?x=1")).toBe("/api/v1?x=1");
  });
});

describe("the proxy in front of the emulator", () => {
  let emulator: SpawnedEmulator;
  let proxy: Awaited<ReturnType<typeof startContractProxy>>;
  const report = join(work, "emulator", "drift.json");

  beforeAll(async () => {
    emulator = await spawnEmulator({ args: ["--strict", "--executor", "simulated"] });
    proxy = await startContractProxy({ target: emulator.rootUrl, report, reportIntervalMs: 100, preserveHost: true });
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop();
    await emulator?.stop();
  });

  it("carries a typed client's session through, with no drift to report", async () => {
    const client = createHtcClient({
      baseUrl: `${proxy.url}/api/v1`,
      apiKey: emulator.apiKey,
      fetch: validatingFetch(contract),
      retry: false,
    });
    const whoami = await unwrap(client.api.GET("/auth/whoami"));
    const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "through-the-proxy", projectDescription: "" } }));
    const task = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId: project.projectId } },
        body: { taskName: "t", taskDescription: "" },
      }),
    );
    const ids = { projectId: project.projectId, taskId: task.taskId };
    const [batch] = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: ids, query: { group: "g" } },
        body: [{ batchSize: 2, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["true"] } }],
      }),
    );
    expect(batch!.batchSize).toBe(2);
    const jobs = await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: ids, query: { pageSize: 1 } } }),
    );
    expect(jobs.items).toHaveLength(1);
    // `next` points back at the proxy (the Host header was preserved), so following it stays checked.
    expect(jobs.next?.startsWith(proxy.url)).toBe(true);
    await unwrap(
      client.api.GET("/htc/workspaces/{workspaceId}/dimensions", { params: { path: { workspaceId: whoami.user.workspace.id } } }),
    );
    const metrics = await client.api.GET("/htc/metrics", { parseAs: "text" });
    expect(metrics.response.status).toBe(200);
    const missing = await client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: "no-such-project" } } });
    expect(missing.response.status).toBe(404);

    const drift = await proxy.report();
    expect(drift.totals.withDrift, formatDriftSummary(drift)).toBe(0);
    expect(drift.totals.validated).toBeGreaterThanOrEqual(9);
    expect(drift.operations["getProject"]).toMatchObject({ calls: 1, statuses: { "404": 1 }, callsWithDrift: 0 });
    expect(drift.operations["getToken"]?.calls).toBe(1);
    expect(drift.notExercised).not.toContain("submitJobs");
  });

  it("returns the target's answers byte for byte", async () => {
    const token = JSON.parse(
      (await raw(`${emulator.baseUrl}/auth/token`, { headers: { authorization: `Token ${emulator.apiKey}` } })).body.toString(),
    ).tokenValue as string;
    const auth = { authorization: `Bearer ${token}` };
    const project = JSON.parse(
      (
        await raw(`${emulator.baseUrl}/htc/projects`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: Buffer.from(JSON.stringify({ projectName: "bytes", projectDescription: "é ü 😀" })),
        })
      ).body.toString(),
    ) as { projectId: string };
    const paths: [string, Record<string, string>][] = [
      [`/api/v1/htc/projects/${project.projectId}`, auth],
      ["/api/v1/htc/regions?cloudProvider=GCP", auth],
      ["/.well-known/jwks.json", {}],
      ["/api/v1/htc/projects?pageSize=1", auth],
      ["/api/v1/htc/projects/nope", auth],
      ["/api/v1/htc/projects", {}],
      ["/api/v1/htc/no-such-operation", auth],
      ["/api/v1/htc/projects?pageSize=0", auth],
      [`/api/v1/htc/projects/${project.projectId}/container-registry/images/unknown-image:v1`, auth],
    ];
    for (const [path, headers] of paths) {
      // The emulator answers pagination links with the Host it was asked with: ask both with the same one.
      const host = { host: new URL(proxy.url).host, ...headers };
      const direct = await raw(emulator.rootUrl + path, { headers: host });
      const proxied = await raw(proxy.url + path, { headers: host });
      expect(proxied.status, path).toBe(direct.status);
      expect(proxied.body.equals(direct.body), `${path}: ${proxied.body.toString()} vs ${direct.body.toString()}`).toBe(true);
      expect(comparableHeaders(proxied.rawHeaders), path).toEqual(comparableHeaders(direct.rawHeaders));
    }
    const drift = await proxy.report();
    expect(drift.unknown).toContainEqual(
      expect.objectContaining({ method: "GET", path: "/api/v1/htc/no-such-operation", count: 1, statuses: { "404": 1 } }),
    );
    // The bad pageSize is request drift: the client sent what the contract forbids, and the proxy says so.
    const request = drift.operations["getProjects"]!.drift.find((d) => d.phase === "request");
    expect(request).toMatchObject({ in: "query", pointer: "/pageSize", keyword: "minimum", count: 1 });
  });

  it("writes the report periodically and on demand", async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(report)).toBe(true);
    const written = JSON.parse(readFileSync(report, "utf8")) as DriftReport;
    expect(written.totals.requests).toBeGreaterThan(0);
    const flushed = await proxy.flush();
    expect(JSON.parse(readFileSync(report, "utf8"))).toEqual(flushed);
    expect(readFileSync(join(work, "emulator", "drift.txt"), "utf8")).toMatch(/^Contract drift report: http:\/\/127\.0\.0\.1:\d+\/\n/);
  });
});

describe("the proxy forwards requests unchanged", () => {
  let echo: Server;
  let proxy: Awaited<ReturnType<typeof startContractProxy>>;

  beforeAll(async () => {
    echo = createServer((req, res) => {
      const hash = createHash("sha256");
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      req.once("end", () => {
        const body = JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, size, sha256: hash.digest("hex") });
        res.writeHead(200, [
          ["Content-Type", "application/x-echo"],
          ["Set-Cookie", "a=1"],
          ["Set-Cookie", "b=2"],
          ["X-Echo", "yes"],
        ] as unknown as Record<string, string>);
        res.end(body);
      });
    });
    const target = await listen(echo);
    proxy = await startContractProxy({ target: `${target}/api/v1` });
  });

  afterAll(async () => {
    await proxy?.stop();
    await new Promise((resolve) => echo.close(resolve));
  });

  it("keeps method, raw path and query, headers (Authorization too) and a streamed body", async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(128 * 1024, i));
    const whole = Buffer.concat(chunks);
    const answer = await raw(`${proxy.url}/api/v1/htc/projects/p1/tasks/t1/jobs/abc%3A0/logs?sort=asc&sort=desc&x=%2F`, {
      method: "POST",
      headers: { authorization: "Bearer secret.token.value", "x-rescale-environment": "prod", "content-type": "application/octet-stream" },
      body: chunks,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/x-echo");
    expect(answer.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    const seen = JSON.parse(answer.body.toString()) as { method: string; url: string; rawHeaders: string[]; size: number; sha256: string };
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/api/v1/htc/projects/p1/tasks/t1/jobs/abc%3A0/logs?sort=asc&sort=desc&x=%2F");
    expect(seen.size).toBe(whole.length);
    expect(seen.sha256).toBe(createHash("sha256").update(whole).digest("hex"));
    const headers = Object.fromEntries(seen.rawHeaders.flatMap((v, i, all) => (i % 2 === 0 ? [[v.toLowerCase(), all[i + 1]]] : [])));
    expect(headers).toMatchObject({
      authorization: "Bearer secret.token.value",
      "x-rescale-environment": "prod",
      "transfer-encoding": "chunked",
    });
    expect(headers["host"]).toBe(new URL(proxy.target).host);
    // A path without the target's prefix gets it.
    const root = JSON.parse((await raw(`${proxy.url}/auth/token`)).body.toString()) as { url: string };
    expect(root.url).toBe("/api/v1/auth/token");
    const drift = await proxy.report();
    // The secret never ends up in the report.
    expect(JSON.stringify(drift)).not.toContain("secret.token.value");
  });
});

describe("the proxy reports drift", () => {
  let emulator: SpawnedEmulator;
  let fake: Server;
  let proxy: Awaited<ReturnType<typeof startContractProxy>>;
  const report = join(work, "fake", "drift.json");

  beforeAll(async () => {
    // Strict: the drift the report counts comes from the fake alone, never from the emulator behind it.
    emulator = await spawnEmulator({ args: ["--strict", "--executor", "simulated"] });
    // In front of the emulator, a fake that breaks a few things on the way back.
    fake = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.once("end", async () => {
        if (req.url!.startsWith("/api/v1/htc/storage")) {
          res.writeHead(418, { "content-type": "text/plain" });
          res.end("I'm a teapot");
          return;
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name)),
        ) as Record<string, string>;
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const answer = await fetch(emulator.rootUrl + req.url, { method: req.method, headers, body });
        let text = await answer.text();
        if (req.url!.startsWith("/api/v1/htc/regions")) {
          const regions = JSON.parse(text) as Record<string, unknown>[];
          text = JSON.stringify(regions.map((r, i) => ({ ...r, cloudProvider: i % 2 === 0 ? "MARS" : r["cloudProvider"] })));
        }
        if (req.url!.startsWith("/api/v1/auth/whoami")) {
          const whoami = JSON.parse(text) as { user: Record<string, unknown> };
          delete whoami.user["email"];
          text = JSON.stringify(whoami);
        }
        res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/octet-stream" });
        res.end(text);
      });
    });
    proxy = await startContractProxy({ target: await listen(fake), report, reportIntervalMs: 0 });
  }, 90_000); // a spawned emulator may need up to 50 s to start under a full parallel test run

  afterAll(async () => {
    await proxy?.stop();
    // (A hook that timed out may have left `fake` unset: waiting on it would hang the whole file.)
    if (fake) {
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    }
    await emulator?.stop();
  });

  it("counts each difference per operation, and unknown operations too", async () => {
    const client = createHtcClient({ baseUrl: `${proxy.url}/api/v1`, apiKey: emulator.apiKey, retry: false });
    for (let i = 0; i < 3; i++) {
      const regions = await client.api.GET("/htc/regions");
      expect(regions.response.status).toBe(200);
    }
    await client.api.GET("/auth/whoami");
    await client.api.GET("/auth/whoami");
    await client.api.GET("/htc/storage");
    // The client sends something the contract forbids: request drift, even though the server says 400.
    await client.api.POST("/htc/projects", { body: { projectName: 1 as unknown as string, projectDescription: "" } });
    for (let i = 0; i < 2; i++) await client.fetch(new Request(`${proxy.url}/api/v1/htc/not-an-operation/${i}`));
    await client.fetch(new Request(`${proxy.url}/_emulator/v1/health`));

    const drift = await proxy.stop();
    expect(drift.operations["getRegions"]).toMatchObject({ calls: 3, callsWithDrift: 3 });
    expect(drift.operations["getRegions"]!.drift).toEqual([
      expect.objectContaining({
        phase: "response",
        status: 200,
        in: "body",
        pointer: "/*/cloudProvider",
        keyword: "enum",
        count: 3,
        example: expect.objectContaining({ value: "MARS" }),
      }),
    ]);
    expect(drift.operations["whoAmI"]!.drift).toEqual([
      expect.objectContaining({ phase: "response", pointer: "/user/email", keyword: "required", count: 2 }),
    ]);
    expect(drift.operations["getStorages"]!.drift).toEqual([expect.objectContaining({ in: "status", status: 418, count: 1 })]);
    expect(drift.operations["createProject"]!.drift).toContainEqual(
      expect.objectContaining({ phase: "request", in: "body", pointer: "/projectName", keyword: "type", count: 1 }),
    );
    expect(drift.totals).toMatchObject({
      unknownOperations: 2,
      outsideContract: 1,
      withDrift: 7,
      responseDrift: 6,
      requestDrift: 1,
      upstreamErrors: 0,
    });
    expect(drift.unknown.map((u) => u.path).sort()).toEqual(["/api/v1/htc/not-an-operation/0", "/api/v1/htc/not-an-operation/1"]);

    const written = JSON.parse(readFileSync(report, "utf8")) as DriftReport;
    expect(written).toEqual(drift);
    const summary = readFileSync(join(work, "fake", "drift.txt"), "utf8");
    expect(summary).toContain("getRegions  GET /htc/regions  3 call(s) [200×3], 3 with drift");
    expect(summary).toMatch(/×3 {2}response 200 body\/\*\/cloudProvider: must be equal to one of the allowed values.* \(got "MARS"\)/);
    expect(summary).toContain("×1  GET /api/v1/htc/not-an-operation/0 [404×1]");
  });
});

/** A target that answers every request with an empty JSON Web Key Set (what getJwks may return). */
function emptyKeySetServer(): Server {
  return createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [] }));
  });
}

describe("upstream failures and the command", () => {
  it("answers 502 with a JSON body when the target does not answer", async () => {
    const closed = createServer();
    const target = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const proxy = await startContractProxy({ target });
    try {
      const answer = await raw(`${proxy.url}/api/v1/htc/projects`);
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.body.toString())).toMatchObject({ error: "bad_gateway" });
    } finally {
      const drift = await proxy.stop();
      expect(drift.totals.upstreamErrors).toBe(1);
    }
  });

  it("runProxyCommand runs until aborted, then prints the summary and writes the report", async () => {
    const target = emptyKeySetServer();
    const lines: string[] = [];
    const controller = new AbortController();
    const file = join(work, "command", "report.json");
    const done = runProxyCommand({
      target: await listen(target),
      port: 0,
      report: file,
      print: (line) => lines.push(line),
      signal: controller.signal,
    });
    try {
      await expect.poll(() => lines.find((l) => l.startsWith("point clients at"))).toBeTruthy();
      const base = /point clients at (\S+)/.exec(lines.find((l) => l.startsWith("point clients at"))!)![1]!;
      expect((await raw(`${base}/.well-known/jwks.json`)).status).toBe(200);
      controller.abort();
      const drift = await done;
      expect(drift.operations["getJwks"]).toMatchObject({ calls: 1, callsWithDrift: 0 });
      expect(lines.join("\n")).toContain("getJwks  GET /.well-known/jwks.json  1 call(s) [200×1], no drift");
      expect(existsSync(file) && existsSync(join(work, "command", "report.txt"))).toBe(true);
      expect(lines).toContain(`report written to ${file} (summary: ${join(work, "command", "report.txt")})`);
    } finally {
      controller.abort();
      await new Promise((resolve) => target.close(resolve));
    }
  });

  it("runProxyCommand writes the report to htc-drift-report.json in the working folder without --report", async () => {
    const target = emptyKeySetServer();
    const lines: string[] = [];
    const controller = new AbortController();
    const cwd = join(work, "default-report");
    const file = join(cwd, DEFAULT_DRIFT_REPORT);
    expect(DEFAULT_DRIFT_REPORT).toBe("htc-drift-report.json");
    const url = await listen(target);
    const done = runProxyCommand({ target: url, port: 0, cwd, print: (line) => lines.push(line), signal: controller.signal });
    try {
      await expect.poll(() => lines.find((l) => l.startsWith("point clients at"))).toBeTruthy();
      // Written as soon as the proxy listens, so a crash still leaves a report behind.
      expect(existsSync(file)).toBe(true);
      const base = /point clients at (\S+)/.exec(lines.find((l) => l.startsWith("point clients at"))!)![1]!;
      expect((await raw(`${base}/.well-known/jwks.json`)).status).toBe(200);
      controller.abort();
      await done;
      const written = JSON.parse(readFileSync(file, "utf8")) as DriftReport;
      expect(written.operations["getJwks"]).toMatchObject({ calls: 1, callsWithDrift: 0 });
      expect(readFileSync(join(cwd, "htc-drift-report.txt"), "utf8")).toContain("getJwks  GET /.well-known/jwks.json  1 call(s)");
      // The absolute path, printed at shutdown.
      expect(lines.at(-1)).toBe(`report written to ${file} (summary: ${join(cwd, "htc-drift-report.txt")})`);
      // A relative --report (and --summary) is taken from the same folder.
      const relative = new AbortController();
      const second = runProxyCommand({
        target: url,
        port: 0,
        cwd,
        report: "sub/r.json",
        summary: "s.txt",
        print: () => {},
        signal: relative.signal,
      });
      relative.abort();
      await second;
      expect(existsSync(join(cwd, "sub", "r.json")) && existsSync(join(cwd, "s.txt"))).toBe(true);
    } finally {
      controller.abort();
      await new Promise((resolve) => target.close(resolve));
    }
  });
});
