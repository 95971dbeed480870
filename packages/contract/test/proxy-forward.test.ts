// Forwarding edge cases of the proxy, against small local targets: hop-by-hop headers, a target that never
// answers, a client that leaves mid-answer, bodies too large to check, and the proxy's own lifecycle.
import { readdirSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startContractProxy } from "../src/proxy.js";

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function target(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.once("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.once("error", reject);
    req.end();
  });
}

describe("forwarding", () => {
  it("leaves hop-by-hop headers and those named by Connection behind, both ways", async () => {
    let seen: IncomingMessage["headers"] = {};
    const url = await target((req, res) => {
      seen = req.headers;
      res.writeHead(200, {
        "content-type": "application/json",
        "x-private": "target",
        "x-kept": "yes",
        connection: "x-private",
        "keep-alive": "timeout=99",
      });
      res.end('{"keys":[]}');
    });
    const proxy = await startContractProxy({ target: url });
    try {
      const answer = await get(`${proxy.url}/.well-known/jwks.json`, { "x-hop": "1", connection: "x-hop", te: "trailers", "x-end": "2" });
      expect(answer.status).toBe(200);
      expect(seen["x-end"]).toBe("2");
      expect(seen).not.toHaveProperty("x-hop");
      expect(seen).not.toHaveProperty("te");
      expect(answer.headers["x-kept"]).toBe("yes");
      expect(answer.headers).not.toHaveProperty("x-private");
      // Node may add its own Keep-Alive to the proxy's answer; the target's never passes.
      expect(answer.headers["keep-alive"]).not.toBe("timeout=99");
    } finally {
      await proxy.stop();
    }
  });

  it("answers 504 when the target takes longer than its time budget", async () => {
    const url = await target(() => {
      // Never answers.
    });
    const lines: string[] = [];
    const proxy = await startContractProxy({ target: url, upstreamTimeoutMs: 200, log: (line) => lines.push(line) });
    try {
      const answer = await get(`${proxy.url}/api/v1/htc/projects`);
      expect(answer.status).toBe(504);
      expect(answer.headers["x-htc-contract-proxy"]).toBe("upstream-timeout");
      expect(JSON.parse(answer.body)).toMatchObject({
        error: "gateway_timeout",
        errorDescription: expect.stringContaining("within 200 ms"),
      });
      expect(lines.some((l) => l.includes("GET /api/v1/htc/projects") && l.includes("within 200 ms"))).toBe(true);
    } finally {
      const drift = await proxy.stop();
      expect(drift.totals).toMatchObject({ requests: 1, upstreamErrors: 1, validated: 0 });
      expect(drift.operations["getProjects"]).toMatchObject({ calls: 1, statuses: { "504": 1 } });
    }
  });

  it("drops the exchange with the target when the client leaves mid-answer", async () => {
    let targetSawClose = false;
    const url = await target((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"keys":[');
      res.once("close", () => {
        targetSawClose = true;
      });
    });
    const proxy = await startContractProxy({ target: url });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${proxy.url}/.well-known/jwks.json`, { agent: false }, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.once("error", () => {});
        req.once("close", resolve);
        req.once("timeout", reject);
        req.end();
      });
      await expect.poll(() => targetSawClose).toBe(true);
      const drift = await proxy.report();
      expect(drift.operations["getJwks"]).toMatchObject({ calls: 1, callsWithDrift: 0 });
      expect(drift.totals).toMatchObject({ requests: 1, validated: 0, withDrift: 0 });
    } finally {
      await proxy.stop();
    }
  });

  it("forwards a body too large to check, and counts it as not validated", async () => {
    const big = JSON.stringify({ keys: [], padding: "x".repeat(4096) });
    const url = await target((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(big);
    });
    const proxy = await startContractProxy({ target: url, maxValidatedBodyBytes: 1024 });
    try {
      const answer = await get(`${proxy.url}/.well-known/jwks.json`);
      expect(answer.body).toBe(big);
      const drift = await proxy.report();
      expect(drift.totals).toMatchObject({ requests: 1, validated: 0, notValidated: 1 });
    } finally {
      await proxy.stop();
    }
  });
});

describe("the proxy's lifecycle", () => {
  it("refuses a target that is not an http(s) URL", async () => {
    await expect(startContractProxy({ target: "ftp://127.0.0.1/" })).rejects.toThrow(/must be an http\(s\) URL/);
  });

  it("writes no file without a report, and stopping twice gives the same report", async () => {
    const url = await target((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"keys":[]}');
    });
    const proxy = await startContractProxy({ target: url, reportIntervalMs: 10 });
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    await get(`${proxy.url}/.well-known/jwks.json`);
    const first = proxy.stop();
    expect(proxy.stop()).toBe(first);
    expect((await first).totals.requests).toBe(1);
    expect(readdirSync(process.cwd()).filter((f) => f.startsWith("htc-drift-report"))).toEqual([]);
  });
});
