// The drift recorder on its own: exchanges as plain data (no network), checked against the bundled contract.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createContract, loadContract } from "../src/index.js";
import { DriftRecorder, MAX_UNKNOWN_PATHS } from "../src/proxy/drift.js";
import type { CapturedBody, Exchange } from "../src/proxy/exchange.js";
import { formatDriftSummary } from "../src/proxy/summary.js";

const contract = loadContract();
const JSON_TYPE = { "content-type": "application/json" };
const KEY = { kty: "RSA", kid: "k1", use: "sig", alg: "RS256", n: "abc", e: "AQAB" };

function captured(data: string | Buffer = "", truncated = false): CapturedBody {
  return { truncated, bytes: () => (typeof data === "string" ? Buffer.from(data) : data) };
}

interface Message {
  headers?: Record<string, string>;
  body?: string | Buffer;
  truncated?: boolean;
}

function exchange(
  method: string,
  rawUrl: string,
  response: Message & { status?: number } = {},
  request: Message = {},
  outcome: Exchange["outcome"] = "answered",
): Exchange {
  return {
    method,
    rawUrl,
    at: new Date("2030-01-02T03:04:05.000Z"),
    outcome,
    status: response.status ?? 200,
    requestHeaders: request.headers ?? {},
    requestBody: captured(request.body, request.truncated),
    responseHeaders: response.headers ?? {},
    responseBody: captured(response.body, response.truncated),
  };
}

function recorder(): DriftRecorder {
  return new DriftRecorder(contract, "https://htc.example/");
}

const jwks = (keys: unknown[]) => JSON.stringify({ keys });

describe("DriftRecorder", () => {
  it("starts with every operation not exercised and removes each one that is reached", () => {
    const drift = recorder();
    expect(drift.snapshot().notExercised).toHaveLength(contract.operationIds.length);
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: JSON_TYPE, body: jwks([KEY]) }));
    const report = drift.snapshot();
    expect(report.notExercised).not.toContain("getJwks");
    expect(report.notExercised).toHaveLength(contract.operationIds.length - 1);
    expect(report.operations["getJwks"]).toMatchObject({ calls: 1, callsWithDrift: 0, statuses: { "200": 1 }, drift: [] });
    expect(report.totals).toMatchObject({ requests: 1, validated: 1, withDrift: 0 });
  });

  it("counts the same difference once per exchange, whatever the item, with indices folded to *", () => {
    const drift = recorder();
    const bad = jwks([
      { ...KEY, n: "not base64url!" },
      { ...KEY, n: "neither!" },
    ]);
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: JSON_TYPE, body: bad }));
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: JSON_TYPE, body: bad }));
    const report = drift.snapshot();
    expect(report.operations["getJwks"]!.drift).toEqual([
      expect.objectContaining({
        phase: "response",
        status: 200,
        in: "body",
        pointer: "/keys/*/n",
        keyword: "pattern",
        count: 2,
        firstSeen: "2030-01-02T03:04:05.000Z",
        example: { method: "GET", url: "/.well-known/jwks.json", pointer: "/keys/0/n" },
      }),
    ]);
    // The key material's pointer looks secret: its value is never copied into the report.
    expect(JSON.stringify(report)).not.toContain("not base64url!");
    expect(report.totals).toMatchObject({ validated: 2, withDrift: 2, responseDrift: 2, requestDrift: 0 });
  });

  it("shows a short offending value, but neither a long one nor one whose name looks secret", () => {
    const drift = recorder();
    const long = "R".repeat(81);
    const body = JSON.stringify({ projectName: 7, projectDescription: "", regions: [long] });
    drift.record(exchange("POST", "/api/v1/htc/projects", { status: 400, headers: JSON_TYPE }, { headers: JSON_TYPE, body }));
    const entries = drift.snapshot().operations["createProject"]!.drift;
    expect(entries.find((e) => e.pointer === "/projectName")).toMatchObject({ phase: "request", keyword: "type", example: { value: 7 } });
    const region = entries.find((e) => e.pointer === "/regions/*");
    expect(region).toBeDefined();
    expect(region!.example).not.toHaveProperty("value");
  });

  it("inflates compressed bodies before checking them", () => {
    const drift = recorder();
    const gzip = { ...JSON_TYPE, "content-encoding": "gzip" };
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: gzip, body: gzipSync(jwks([KEY])) }));
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: gzip, body: gzipSync(JSON.stringify({ keys: "none" })) }));
    const report = drift.snapshot();
    expect(report.operations["getJwks"]!.callsWithDrift).toBe(1);
    expect(report.operations["getJwks"]!.drift).toEqual([expect.objectContaining({ pointer: "/keys", keyword: "type", count: 1 })]);
  });

  it("reports a body it cannot read as drift of that message", () => {
    const drift = recorder();
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: { ...JSON_TYPE, "content-encoding": "compress" }, body: "x" }));
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: "not gzip" }));
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: JSON_TYPE, body: "{ keys: [" }));
    const messages = drift.snapshot().operations["getJwks"]!.drift.map((e) => e.message);
    expect(messages).toEqual([
      "cannot check a body with Content-Encoding compress",
      expect.stringMatching(/^the gzip body does not decode: /),
      "the application/json body is not valid JSON",
    ]);
  });

  it("counts exchanges it cannot check: too large, aborted, or answered by the proxy", () => {
    const drift = recorder();
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: JSON_TYPE, body: "{", truncated: true }));
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: JSON_TYPE, body: "{" }, {}, "aborted"));
    drift.record(exchange("GET", "/.well-known/jwks.json", { status: 502, headers: JSON_TYPE, body: "{}" }, {}, "upstream-error"));
    const report = drift.snapshot();
    expect(report.totals).toMatchObject({ requests: 3, validated: 0, notValidated: 1, upstreamErrors: 1, withDrift: 0 });
    expect(report.operations["getJwks"]).toMatchObject({ calls: 3, statuses: { "200": 2, "502": 1 }, drift: [] });
  });

  it("does not read a body in the answer to HEAD, whatever its headers announce", () => {
    const small = createContract({
      openapi: "3.1.0",
      info: { title: "small", version: "1" },
      paths: { "/things": { head: { operationId: "headThings", responses: { "200": { description: "there" } } } } },
    });
    const drift = new DriftRecorder(small, "https://htc.example/");
    // Decoding the empty body of a gzip-encoded HEAD answer would fail: it is not attempted.
    drift.record(exchange("HEAD", "/api/v1/things", { headers: { ...JSON_TYPE, "content-encoding": "gzip", "content-length": "120" } }));
    expect(drift.snapshot().operations["headThings"]).toMatchObject({ calls: 1, callsWithDrift: 0, drift: [] });
  });

  it("keeps unknown paths apart up to a limit, then counts the rest as (other)", () => {
    const drift = recorder();
    for (let i = 0; i < MAX_UNKNOWN_PATHS + 5; i++) drift.record(exchange("GET", `/api/v1/htc/nothing-here/${i}`, { status: 404 }));
    drift.record(exchange("GET", "/api/v1/htc/nothing-here/0?again=1", { status: 404 }));
    drift.record(exchange("GET", "/_emulator/v1/health"));
    const report = drift.snapshot();
    expect(report.totals).toMatchObject({ unknownOperations: MAX_UNKNOWN_PATHS + 6, outsideContract: 1, validated: 0 });
    expect(report.unknown).toHaveLength(MAX_UNKNOWN_PATHS + 1);
    expect(report.unknown.find((u) => u.path === "/api/v1/htc/nothing-here/0")).toMatchObject({ count: 2, statuses: { "404": 2 } });
    expect(report.unknown.find((u) => u.path === "(other)")).toMatchObject({ method: "GET", count: 5 });
    expect(formatDriftSummary(report)).toContain("×5  GET (other) [404×5]");
  });

  it("hands out snapshots that recording does not change", () => {
    const drift = recorder();
    const before = drift.snapshot();
    drift.record(exchange("GET", "/.well-known/jwks.json", { headers: JSON_TYPE, body: jwks([KEY]) }));
    expect(before.totals.requests).toBe(0);
    expect(before.operations).toEqual({});
  });
});
