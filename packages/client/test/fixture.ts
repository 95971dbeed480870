// A tiny scripted HTTP server on 127.0.0.1 (random port) standing in for the HTC API in unit tests.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface FixtureRequest {
  method: string;
  /** Path without query, e.g. `/api/v1/htc/projects`. */
  path: string;
  url: URL;
  headers: IncomingHttpHeaders;
  authorization: string | undefined;
  body: string;
}

export interface FixtureReply {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as text; undefined sends an empty body. */
  body?: unknown;
  /** Wait this long before answering (the wait ends if the client disconnects). */
  delayMs?: number;
  /** Drop the connection without answering. */
  destroy?: boolean;
}

export type Handler = (req: FixtureRequest) => FixtureReply | undefined | Promise<FixtureReply | undefined>;

export interface Fixture {
  origin: string;
  /** `${origin}/api/v1` */
  baseUrl: string;
  requests: FixtureRequest[];
  /** Requests whose path ends with `suffix` (and optionally have this method). */
  calls(suffix: string, method?: string): FixtureRequest[];
  close(): Promise<void>;
}

export async function startFixture(handler: Handler): Promise<Fixture> {
  const requests: FixtureRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const request: FixtureRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      url,
      headers: req.headers,
      authorization: req.headers.authorization,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    requests.push(request);
    let reply: FixtureReply;
    try {
      reply = (await handler(request)) ?? { status: 404, body: { error: "not_found", errorDescription: `no route ${url.pathname}` } };
    } catch (error) {
      reply = { status: 500, body: { error: "fixture_error", errorDescription: String(error) } };
    }
    if (reply.delayMs) {
      const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
      await Promise.race([new Promise((r) => setTimeout(r, reply.delayMs)), closed]);
      if (res.destroyed || res.writableEnded) return;
    }
    if (reply.destroy) {
      req.socket.destroy();
      return;
    }
    const isText = typeof reply.body === "string";
    const payload = reply.body === undefined ? "" : isText ? (reply.body as string) : JSON.stringify(reply.body);
    const headers: Record<string, string> = { ...reply.headers };
    if (payload && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
      headers["Content-Type"] = isText ? "text/plain" : "application/json";
    }
    res.writeHead(reply.status ?? 200, headers);
    res.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseUrl: `${origin}/api/v1`,
    requests,
    calls: (suffix, method) => requests.filter((r) => r.path.endsWith(suffix) && (!method || r.method === method)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Plays the token endpoint: issues `tok-1`, `tok-2`, … for the right API key, and tells whether a
 * request's bearer token is one it issued and has not revoked.
 */
export class TokenIssuer {
  issued: string[] = [];
  private valid = new Set<string>();

  constructor(private readonly opts: { apiKey?: string; expiresIn?: number; delayMs?: number; refreshToken?: string } = {}) {}

  get exchanges(): number {
    return this.issued.length;
  }

  /** Answers `GET …/auth/token`, or returns undefined for other paths. */
  handle(req: FixtureRequest): FixtureReply | undefined {
    if (!req.path.endsWith("/auth/token")) return undefined;
    const accepted = [`Token ${this.opts.apiKey ?? "test-key"}`];
    if (this.opts.refreshToken) accepted.push(`Refresh ${this.opts.refreshToken}`);
    if (!accepted.includes(req.authorization ?? "")) {
      return { status: 401, body: { error: "invalid_token", errorDescription: "unknown API key" } };
    }
    const token = `tok-${this.issued.length + 1}`;
    this.issued.push(token);
    this.valid.add(token);
    return { delayMs: this.opts.delayMs, body: { tokenValue: token, expiresIn: this.opts.expiresIn ?? 3600 } };
  }

  /** A 401 reply unless the request carries a valid bearer token. */
  reject(req: FixtureRequest): FixtureReply | undefined {
    const token = req.authorization?.startsWith("Bearer ") ? req.authorization.slice(7) : undefined;
    if (token && this.valid.has(token)) return undefined;
    return { status: 401, body: { error: "invalid_token", errorDescription: "token expired or unknown" } };
  }

  revokeAll(): void {
    this.valid.clear();
  }
}
