// A spec-checking reverse proxy: every request is forwarded to the target unchanged (method, path, query,
// headers including Authorization, the body streamed) and the target's answer is returned unchanged, byte for
// byte. Meanwhile copies of both bodies are validated against the contract in the background, and what differs
// is aggregated into a drift report (per operation: which part of which message differed, and how often), written
// as JSON plus a readable summary periodically and on stop. Point a client at the proxy, the proxy at production
// (or the emulator), and read where the contract and the server disagree.
import { once } from "node:events";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  type Server,
  type ServerResponse,
  createServer,
} from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname, extname, resolve } from "node:path";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { type Contract, loadContract } from "./contract.js";
import { isJsonMediaType } from "./media-type.js";
import type { Violation } from "./validate.js";

export interface ContractProxyOptions {
  /** Where requests go: an origin (`https://htc.rescale.com`) or a base URL (`…/api/v1`, see `forwardPath`). */
  target: string | URL;
  /** Port to listen on (default 0: a free one). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** The contract to check against (default: the bundled `@htcemu/openapi` document). */
  contract?: Contract;
  /** File for the JSON drift report; the readable summary goes next to it (`.txt`). Without it nothing is written. */
  report?: string;
  /** Where the summary goes (default: `report` with its extension replaced by `.txt`). */
  summary?: string;
  /** How often the report files are rewritten while running, when something changed (default 30 s; 0: only on stop). */
  reportIntervalMs?: number;
  /**
   * Send the client's `Host` header to the target instead of the target's own host. Useful with the emulator,
   * whose pagination `next` links then point back at the proxy; wrong for production (TLS, virtual hosts).
   */
  preserveHost?: boolean;
  /** Bodies larger than this are forwarded but not validated (default 64 MiB). */
  maxValidatedBodyBytes?: number;
  /** Time budget of one exchange with the target until its response headers arrive (default 5 min). */
  upstreamTimeoutMs?: number;
  /** Lines about the proxy itself (start, upstream failures, report writes). */
  log?: (line: string) => void;
}

/** One way a message differed from the contract, with how often it was seen. */
export interface DriftEntry {
  readonly phase: "request" | "response";
  /** The response status (or `2XX`-style class for request drift: the status the request got). */
  readonly status?: number;
  readonly in: Violation["in"];
  /** JSON pointer with array indices replaced by `*`, so the same field of every item counts as one. */
  readonly pointer: string;
  readonly keyword?: string;
  readonly message: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** One request that showed it (method and URL path with query), and the offending value when short and harmless. */
  example: { method: string; url: string; pointer: string; value?: unknown };
}

export interface OperationReport {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  calls: number;
  /** Exchanges of this operation with at least one drift entry. */
  callsWithDrift: number;
  statuses: Record<string, number>;
  drift: DriftEntry[];
}

export interface UnknownOperationReport {
  readonly method: string;
  /** The concrete path (query left out); `(other)` once too many distinct paths were seen. */
  readonly path: string;
  count: number;
  statuses: Record<string, number>;
}

export interface DriftReport {
  readonly target: string;
  readonly contract: { readonly title: string; readonly version: string; readonly operations: number };
  readonly startedAt: string;
  updatedAt: string;
  totals: {
    /** Every request the proxy received. */
    requests: number;
    /** Exchanges of contract operations that were validated. */
    validated: number;
    /** Of those, exchanges with at least one drift entry. */
    withDrift: number;
    /** Exchanges whose response differed from the contract (the server's side). */
    responseDrift: number;
    /** Exchanges whose request differed from the contract (the client's side). */
    requestDrift: number;
    /** Requests under the API prefix that match no operation of the contract. */
    unknownOperations: number;
    /** Requests outside the contract's paths (for example `/_emulator/…`), forwarded unchecked. */
    outsideContract: number;
    /** Bodies too large to validate (forwarded all the same). */
    notValidated: number;
    /** Requests the target did not answer (the proxy answered 502 or 504). */
    upstreamErrors: number;
  };
  /** Exercised operations, by operationId. */
  operations: Record<string, OperationReport>;
  unknown: UnknownOperationReport[];
  /** Operations of the contract that no request reached. */
  notExercised: string[];
}

export interface ContractProxy {
  /** `http://host:port`: use it (plus `/api/v1`) as the client's base URL. */
  readonly url: string;
  readonly port: number;
  readonly target: string;
  /** The report so far (after validating everything received until now). */
  report(): Promise<DriftReport>;
  /** Validates what is pending and rewrites the report files. */
  flush(): Promise<DriftReport>;
  /** Stops listening, waits for open exchanges and pending validation, writes the report; resolves with it. */
  stop(): Promise<DriftReport>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
const MAX_UNKNOWN_PATHS = 200;
const SECRETISH = /token|secret|password|credential|key|signature|authorization/i;

export async function startContractProxy(options: ContractProxyOptions): Promise<ContractProxy> {
  const target = new URL(String(options.target));
  if (target.protocol !== "http:" && target.protocol !== "https:") throw new Error(`the target must be an http(s) URL, got ${target.href}`);
  const contract = options.contract ?? loadContract();
  const log = options.log ?? (() => {});
  const maxBody = options.maxValidatedBodyBytes ?? 64 * 1024 * 1024;
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const drift = new DriftRecorder(contract, target.href);
  const summaryFile = options.report ? (options.summary ?? replaceExtension(options.report, ".txt")) : undefined;

  const pending = new Set<Promise<void>>();
  const open = new Set<Promise<void>>();
  const track = (set: Set<Promise<void>>, promise: Promise<void>) => {
    set.add(promise);
    void promise.finally(() => set.delete(promise));
  };
  const settle = async () => {
    while (open.size > 0 || pending.size > 0) await Promise.allSettled([...open, ...pending]);
  };
  let dirty = false;
  const writeReport = () => {
    if (!options.report) return;
    const report = drift.snapshot();
    writeAtomically(options.report, `${JSON.stringify(report, null, 2)}\n`);
    if (summaryFile) writeAtomically(summaryFile, formatDriftSummary(report));
    dirty = false;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    new Promise<void>((resolve) => {
      const started = new Date();
      const rawUrl = req.url ?? "/";
      const method = (req.method ?? "GET").toUpperCase();
      const upstreamPath = forwardPath(target, rawUrl);
      const headers = forwardHeaders(req.headers, target, options.preserveHost === true);
      const requestBody = new BodyTap(maxBody);
      const responseBody = new BodyTap(maxBody);
      let finished = false;
      const finish = (outcome: Exchange["outcome"], status?: number, responseHeaders?: IncomingHttpHeaders) => {
        if (finished) return;
        finished = true;
        dirty = true;
        const exchange: Exchange = {
          method,
          rawUrl,
          at: started,
          outcome,
          status,
          requestHeaders: req.headers,
          requestBody,
          responseHeaders,
          responseBody,
        };
        // Validation runs after the client has its answer.
        track(
          pending,
          new Promise<void>((done) => {
            setImmediate(() => {
              try {
                drift.record(exchange);
              } catch (error) {
                log(`contract proxy: could not check ${method} ${rawUrl}: ${(error as Error).message}`);
              }
              done();
            });
          }),
        );
        resolve();
      };

      const upstream = send(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port || (target.protocol === "https:" ? 443 : 80),
          method: req.method,
          path: upstreamPath,
          headers,
          timeout: options.upstreamTimeoutMs ?? 300_000,
        },
        (answer) => {
          const status = answer.statusCode ?? 502;
          res.writeHead(status, answer.statusMessage, responseHeadersFor(answer));
          answer.on("data", (chunk: Buffer) => {
            responseBody.push(chunk);
            res.write(chunk);
          });
          answer.once("end", () => {
            res.end();
            finish("answered", status, answer.headers);
          });
          answer.once("error", () => {
            res.destroy();
            finish("aborted", status, answer.headers);
          });
        },
      );
      upstream.once("timeout", () => upstream.destroy(new Error(`no answer from the target within ${options.upstreamTimeoutMs ?? 300_000} ms`)));
      upstream.once("error", (error) => {
        if (finished) return;
        if (!res.headersSent) {
          log(`contract proxy: ${method} ${rawUrl} → ${target.origin}: ${error.message}`);
          const body = JSON.stringify({ error: "bad_gateway", errorDescription: `The contract proxy could not reach ${target.origin}: ${error.message}` });
          res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-htc-contract-proxy": "upstream-error" });
          res.end(body);
          finish("upstream-error", 502);
        } else {
          res.destroy();
          finish("aborted");
        }
      });
      req.on("data", (chunk: Buffer) => {
        requestBody.push(chunk);
        if (!upstream.write(chunk)) {
          req.pause();
          upstream.once("drain", () => req.resume());
        }
      });
      req.once("end", () => upstream.end());
      req.once("error", () => upstream.destroy());
      res.once("close", () => {
        // The client went away before the answer was complete: drop the upstream exchange too.
        if (!res.writableFinished) {
          upstream.destroy();
          finish("aborted");
        }
      });
    });

  const server: Server = createServer((req, res) => {
    track(open, handle(req, res));
  });
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log(`contract proxy listening on ${url} → ${target.href}${options.report ? ` (report: ${options.report})` : ""}`);

  const interval = options.reportIntervalMs ?? 30_000;
  const timer =
    options.report && interval > 0
      ? setInterval(() => {
          if (!dirty) return;
          try {
            writeReport();
          } catch (error) {
            log(`contract proxy: could not write the report: ${(error as Error).message}`);
          }
        }, interval)
      : undefined;
  timer?.unref();
  if (options.report) writeReport();

  let stopping: Promise<DriftReport> | undefined;
  return {
    url,
    port: address.port,
    target: target.href,
    async report() {
      await settle();
      return drift.snapshot();
    },
    async flush() {
      await settle();
      writeReport();
      return drift.snapshot();
    },
    stop() {
      stopping ??= (async () => {
        if (timer) clearInterval(timer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await settle();
        server.closeAllConnections();
        await closed;
        writeReport();
        return drift.snapshot();
      })();
      return stopping;
    },
  };
}

/**
 * The path (with query, as received) to request from the target. The target's own path is a prefix, unless the
 * request already carries it: with `--target https://host/api/v1` a client may use `http://proxy/api/v1` as its
 * base URL and `/api/v1/htc/projects` is not doubled, while `/auth/token` becomes `/api/v1/auth/token`.
 */
export function forwardPath(target: URL, rawUrl: string): string {
  const base = target.pathname.replace(/\/+$/, "");
  const path = rawUrl.startsWith("/") ? rawUrl : `/${rawUrl}`;
  if (base === "" || path === base || path.startsWith(`${base}/`) || path.startsWith(`${base}?`)) return path;
  return base + path;
}

function forwardHeaders(incoming: IncomingHttpHeaders, target: URL, preserveHost: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = new Set(
    String(incoming["connection"] ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    if (name === "host" && !preserveHost) continue;
    out[name] = value;
  }
  if (!preserveHost || !out["host"]) out["host"] = target.host;
  // A chunked request stays chunked: node sets Transfer-Encoding itself when no Content-Length is given.
  return out;
}

function responseHeadersFor(answer: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = new Set(
    String(answer.headers["connection"] ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  // rawHeaders keeps repeated headers (Set-Cookie) and the target's spelling.
  const raw = answer.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || connectionTokens.has(lower)) continue;
    const existing = out[name];
    out[name] = existing === undefined ? raw[i + 1]! : ([] as string[]).concat(existing as string | string[], raw[i + 1]!);
  }
  return out;
}

/** Keeps a copy of a streamed body, up to a limit (past it, only the size is counted). */
class BodyTap {
  private readonly chunks: Buffer[] = [];
  size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size <= this.limit) this.chunks.push(chunk);
  }
  get truncated(): boolean {
    return this.size > this.limit;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface Exchange {
  method: string;
  rawUrl: string;
  at: Date;
  outcome: "answered" | "aborted" | "upstream-error";
  status?: number;
  requestHeaders: IncomingHttpHeaders;
  requestBody: BodyTap;
  responseHeaders?: IncomingHttpHeaders;
  responseBody: BodyTap;
}

class DriftRecorder {
  private readonly report: DriftReport;
  private readonly entries = new Map<string, Map<string, DriftEntry>>();
  private readonly unknown = new Map<string, UnknownOperationReport>();

  constructor(
    private readonly contract: Contract,
    target: string,
  ) {
    const info = (contract.document["info"] ?? {}) as { title?: string; version?: string };
    const now = new Date().toISOString();
    this.report = {
      target,
      contract: { title: info.title ?? "", version: info.version ?? "", operations: contract.operationIds.length },
      startedAt: now,
      updatedAt: now,
      totals: { requests: 0, validated: 0, withDrift: 0, responseDrift: 0, requestDrift: 0, unknownOperations: 0, outsideContract: 0, notValidated: 0, upstreamErrors: 0 },
      operations: {},
      unknown: [],
      notExercised: [...contract.operationIds],
    };
  }

  record(exchange: Exchange): void {
    const report = this.report;
    report.totals.requests++;
    report.updatedAt = new Date().toISOString();
    if (exchange.outcome === "upstream-error") report.totals.upstreamErrors++;
    const url = new URL(exchange.rawUrl, "http://proxy.invalid");
    const path = url.pathname;
    if (!this.contract.covers(path)) {
      report.totals.outsideContract++;
      return;
    }
    const match = this.contract.match(exchange.method, path);
    if (!match) {
      report.totals.unknownOperations++;
      const key = this.unknown.size >= MAX_UNKNOWN_PATHS && !this.unknown.has(`${exchange.method} ${path}`) ? `${exchange.method} (other)` : `${exchange.method} ${path}`;
      let entry = this.unknown.get(key);
      if (!entry) {
        entry = { method: exchange.method, path: key.slice(exchange.method.length + 1), count: 0, statuses: {} };
        this.unknown.set(key, entry);
        report.unknown.push(entry);
      }
      entry.count++;
      if (exchange.status !== undefined) entry.statuses[exchange.status] = (entry.statuses[exchange.status] ?? 0) + 1;
      return;
    }
    const op = match.operation;
    let opReport = report.operations[op.operationId];
    if (!opReport) {
      opReport = { operationId: op.operationId, method: op.method, path: op.path, calls: 0, callsWithDrift: 0, statuses: {}, drift: [] };
      report.operations[op.operationId] = opReport;
      report.notExercised = report.notExercised.filter((id) => id !== op.operationId);
    }
    opReport.calls++;
    if (exchange.status !== undefined) opReport.statuses[exchange.status] = (opReport.statuses[exchange.status] ?? 0) + 1;
    if (exchange.outcome !== "answered") return;
    if (exchange.requestBody.truncated || exchange.responseBody.truncated) {
      report.totals.notValidated++;
      return;
    }
    report.totals.validated++;

    const found: { phase: DriftEntry["phase"]; violation: Violation; value?: unknown }[] = [];
    const requestType = header(exchange.requestHeaders, "content-type");
    const requestBody = parseBody(exchange.requestBody.bytes(), requestType, header(exchange.requestHeaders, "content-encoding"));
    if ("error" in requestBody) found.push({ phase: "request", violation: requestBody.error });
    else {
      for (const violation of this.contract.validateRequest({
        method: exchange.method,
        path,
        query: url.searchParams,
        headers: plainHeaders(exchange.requestHeaders),
        body: requestBody.value,
      })) {
        found.push({ phase: "request", violation, value: valueAt(requestBody.value, violation) });
      }
    }
    const responseType = header(exchange.responseHeaders ?? {}, "content-type");
    const responseBody =
      exchange.method === "HEAD"
        ? { value: undefined }
        : parseBody(exchange.responseBody.bytes(), responseType, header(exchange.responseHeaders ?? {}, "content-encoding"));
    if ("error" in responseBody) found.push({ phase: "response", violation: responseBody.error });
    else {
      for (const violation of this.contract.validateResponse(op.operationId, exchange.status!, responseType, responseBody.value)) {
        found.push({ phase: "response", violation, value: valueAt(responseBody.value, violation) });
      }
    }
    if (found.length === 0) return;
    report.totals.withDrift++;
    if (found.some((f) => f.phase === "response")) report.totals.responseDrift++;
    if (found.some((f) => f.phase === "request")) report.totals.requestDrift++;
    opReport.callsWithDrift++;
    let byKey = this.entries.get(op.operationId);
    if (!byKey) {
      byKey = new Map();
      this.entries.set(op.operationId, byKey);
    }
    const seenThisCall = new Set<string>();
    const at = exchange.at.toISOString();
    for (const { phase, violation, value } of found) {
      const pointer = violation.pointer.replace(/\/\d+(?=\/|$)/g, "/*");
      const status = phase === "response" ? exchange.status : undefined;
      const key = [phase, status ?? "", violation.in, pointer, violation.keyword ?? "", violation.message].join("\u0000");
      if (seenThisCall.has(key)) continue;
      seenThisCall.add(key);
      let entry = byKey.get(key);
      if (!entry) {
        entry = {
          phase,
          ...(status === undefined ? {} : { status }),
          in: violation.in,
          pointer,
          ...(violation.keyword ? { keyword: violation.keyword } : {}),
          message: violation.message,
          count: 0,
          firstSeen: at,
          lastSeen: at,
          example: { method: exchange.method, url: url.pathname + url.search, pointer: violation.pointer, ...(value === undefined ? {} : { value }) },
        };
        byKey.set(key, entry);
        opReport.drift.push(entry);
      }
      entry.count++;
      entry.lastSeen = at;
    }
  }

  /** A deep copy, so a caller can keep it while recording goes on. */
  snapshot(): DriftReport {
    return JSON.parse(JSON.stringify(this.report)) as DriftReport;
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** A body as the validator wants it: parsed JSON, text, or undefined when empty; compressed bodies are inflated. */
function parseBody(raw: Buffer, contentType: string | undefined, encoding: string | undefined): { value: unknown } | { error: Violation } {
  let bytes = raw;
  try {
    for (const coding of (encoding ?? "").split(",").map((c) => c.trim().toLowerCase()).filter((c) => c && c !== "identity").reverse()) {
      if (coding === "gzip" || coding === "x-gzip") bytes = gunzipSync(bytes);
      else if (coding === "deflate") bytes = inflateSync(bytes);
      else if (coding === "br") bytes = brotliDecompressSync(bytes);
      else return { error: { in: "body", pointer: "", message: `cannot check a body with Content-Encoding ${coding}` } };
    }
  } catch (error) {
    return { error: { in: "body", pointer: "", message: `the ${encoding} body does not decode: ${(error as Error).message}` } };
  }
  const text = bytes.toString("utf8");
  if (text === "") return { value: undefined };
  if (!contentType || !isJsonMediaType(contentType)) return { value: text };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: { in: "body", pointer: "", message: `the ${contentType} body is not valid JSON` } };
  }
}

/** The offending value when it is a short primitive in the body and its name does not look secret. */
function valueAt(body: unknown, violation: Violation): unknown {
  if (violation.in !== "body" || SECRETISH.test(violation.pointer)) return undefined;
  let node = body;
  for (const raw of violation.pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (node === null || typeof node === "number" || typeof node === "boolean") return node;
  if (typeof node === "string" && node.length <= 80) return node;
  return undefined;
}

function replaceExtension(file: string, extension: string): string {
  const current = extname(file);
  return current ? file.slice(0, -current.length) + extension : file + extension;
}

function writeAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** The report as text: one block per operation (calls, statuses, each difference with its count), then unknown ones. */
export function formatDriftSummary(report: DriftReport): string {
  const lines: string[] = [];
  const { totals } = report;
  const operations = Object.values(report.operations).sort((a, b) => b.callsWithDrift - a.callsWithDrift || a.operationId.localeCompare(b.operationId));
  const drifting = operations.filter((o) => o.drift.length > 0);
  lines.push(`Contract drift report: ${report.target}`);
  lines.push(`contract ${report.contract.title} ${report.contract.version}, from ${report.startedAt} to ${report.updatedAt}`);
  lines.push(
    `${totals.requests} requests: ${totals.validated} validated, ${totals.withDrift} with drift (${totals.responseDrift} in the response: the server; ` +
      `${totals.requestDrift} in the request: the client), ${totals.unknownOperations} to unknown operations, ` +
      `${totals.outsideContract} outside the contract, ${totals.notValidated} too large to check, ${totals.upstreamErrors} upstream errors`,
  );
  lines.push(
    `${operations.length}/${report.contract.operations} operations exercised, ${drifting.length} with drift` +
      (drifting.length === 0 && operations.length > 0 ? ": the target matches the contract on everything seen" : ""),
  );
  for (const op of operations) {
    const statuses = Object.entries(op.statuses)
      .map(([status, count]) => `${status}×${count}`)
      .join(" ");
    lines.push("");
    lines.push(`${op.operationId}  ${op.method} ${op.path}  ${op.calls} call(s) [${statuses}]${op.callsWithDrift ? `, ${op.callsWithDrift} with drift` : ", no drift"}`);
    for (const entry of [...op.drift].sort((a, b) => b.count - a.count)) {
      const where = `${entry.phase}${entry.status === undefined ? "" : ` ${entry.status}`} ${entry.in}${entry.pointer}`;
      const value = entry.example.value === undefined ? "" : ` (got ${JSON.stringify(entry.example.value)})`;
      lines.push(`  ×${entry.count}  ${where}: ${entry.message}${value}  e.g. ${entry.example.method} ${entry.example.url}`);
    }
  }
  if (report.unknown.length > 0) {
    lines.push("");
    lines.push("Requests that match no operation of the contract:");
    for (const entry of [...report.unknown].sort((a, b) => b.count - a.count)) {
      const statuses = Object.entries(entry.statuses)
        .map(([status, count]) => `${status}×${count}`)
        .join(" ");
      lines.push(`  ×${entry.count}  ${entry.method} ${entry.path} [${statuses}]`);
    }
  }
  if (report.notExercised.length > 0) {
    lines.push("");
    lines.push(`Not exercised (${report.notExercised.length}): ${report.notExercised.join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Where `htc emulator proxy` writes its drift report without `--report`, relative to the working folder. */
export const DEFAULT_DRIFT_REPORT = "htc-drift-report.json";

export interface ProxyCommandOptions extends Omit<ContractProxyOptions, "contract" | "log"> {
  /** File for the JSON drift report (default: DEFAULT_DRIFT_REPORT in `cwd`); the summary goes next to it. */
  report?: string;
  /** The folder relative `report` and `summary` paths are resolved from (default: the process's). */
  cwd?: string;
  /** A contract file to use instead of the bundled one. */
  contract?: string | Contract;
  /** Where lines go (default: stdout). */
  print?: (line: string) => void;
  /** Stops the proxy when aborted; without it SIGINT and SIGTERM stop it. */
  signal?: AbortSignal;
}

/**
 * `htc emulator proxy --target <url>`: starts the proxy, prints where it listens and how to point a client at
 * it, runs until SIGINT/SIGTERM (or `signal`), then writes the report and prints the summary and where the report
 * is. Resolves with the final report. The report is always written: a session whose drift is only printed is
 * lost with the terminal.
 */
export async function runProxyCommand(options: ProxyCommandOptions): Promise<DriftReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const contract = typeof options.contract === "string" ? loadContract(options.contract) : options.contract;
  const { signal, print: _print, contract: _contract, cwd = process.cwd(), ...rest } = options;
  // Absolute, so the path printed at the end is the file's wherever the command was started.
  const report = resolve(cwd, options.report ?? DEFAULT_DRIFT_REPORT);
  const summary = options.summary === undefined ? replaceExtension(report, ".txt") : resolve(cwd, options.summary);
  const proxy = await startContractProxy({ ...rest, report, summary, ...(contract ? { contract } : {}), log: print });
  const apiBase = `${proxy.url}/api/v1`;
  print(`point clients at ${apiBase} (for example HTC_BASE_URL=${apiBase}); stop with Ctrl-C`);
  await new Promise<void>((resolve) => {
    if (signal) {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const final = await proxy.stop();
  print("");
  print(formatDriftSummary(final).trimEnd());
  print(`report written to ${report} (summary: ${summary})`);
  return final;
}
