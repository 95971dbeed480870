// Forwarding one request to the target unchanged: method, path and query, headers (Authorization too) and the
// body, streamed both ways; only hop-by-hop headers stay behind. Copies of both bodies are kept, up to a limit,
// for the drift recorder. When the target does not answer, the proxy answers 502 (or 504 on a timeout) itself.
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  type ServerResponse,
} from "node:http";
import { request as httpsRequest } from "node:https";
import type { CapturedBody, Exchange } from "./exchange.js";

export interface ForwardOptions {
  readonly target: URL;
  /** Send the client's `Host` header instead of the target's host. */
  readonly preserveHost: boolean;
  /** Bodies larger than this are forwarded whole but captured only in part (marked truncated). */
  readonly maxCapturedBytes: number;
  /** Time budget of the exchange with the target until its response headers arrive. */
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
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

/** Forwards one exchange. Resolves when it is over, however it ended; never rejects. */
export function forwardExchange(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): Promise<Exchange> {
  return new Promise<Exchange>((resolve) => {
    const { target } = options;
    const at = new Date();
    const rawUrl = req.url ?? "/";
    const method = (req.method ?? "GET").toUpperCase();
    const requestBody = new BodyTap(options.maxCapturedBytes);
    const responseBody = new BodyTap(options.maxCapturedBytes);
    let finished = false;
    const finish = (outcome: Exchange["outcome"], status?: number, responseHeaders?: IncomingHttpHeaders) => {
      if (finished) return;
      finished = true;
      resolve({ method, rawUrl, at, outcome, status, requestHeaders: req.headers, requestBody, responseHeaders, responseBody });
    };

    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const upstream = send(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port || (target.protocol === "https:" ? 443 : 80),
        method: req.method,
        path: forwardPath(target, rawUrl),
        headers: forwardHeaders(req.headers, target, options.preserveHost),
        timeout: options.timeoutMs,
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
    let timedOut = false;
    upstream.once("timeout", () => {
      timedOut = true;
      upstream.destroy(new Error(`no answer from the target within ${options.timeoutMs} ms`));
    });
    upstream.once("error", (error) => {
      if (finished) return;
      if (res.headersSent) {
        res.destroy();
        finish("aborted");
        return;
      }
      options.log(`contract proxy: ${method} ${rawUrl} → ${target.origin}: ${error.message}`);
      const status = timedOut ? 504 : 502;
      const body = JSON.stringify({
        error: timedOut ? "gateway_timeout" : "bad_gateway",
        errorDescription: `The contract proxy could not reach ${target.origin}: ${error.message}`,
      });
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "x-htc-contract-proxy": timedOut ? "upstream-timeout" : "upstream-error",
      });
      res.end(body);
      finish("upstream-error", status);
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
  const dropped = droppedHeaders(incoming);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || dropped.has(name)) continue;
    if (name === "host" && !preserveHost) continue;
    out[name] = value;
  }
  if (!preserveHost || !out["host"]) out["host"] = target.host;
  // A chunked request stays chunked: node sets Transfer-Encoding itself when no Content-Length is given.
  return out;
}

function responseHeadersFor(answer: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const dropped = droppedHeaders(answer.headers);
  // rawHeaders keeps repeated headers (Set-Cookie) and the target's spelling.
  const raw = answer.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (dropped.has(name.toLowerCase())) continue;
    const existing = out[name];
    out[name] = existing === undefined ? raw[i + 1]! : ([] as string[]).concat(existing as string | string[], raw[i + 1]!);
  }
  return out;
}

/** Lower-case names of the headers that stay behind: the hop-by-hop ones and those the Connection header names. */
function droppedHeaders(headers: IncomingHttpHeaders): Set<string> {
  const names = new Set(HOP_BY_HOP);
  for (const token of String(headers["connection"] ?? "").split(",")) {
    const name = token.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names;
}

/** Keeps a copy of a streamed body, up to a limit (past it, only the size is counted). */
class BodyTap implements CapturedBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;

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
