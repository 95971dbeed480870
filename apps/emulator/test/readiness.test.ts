// The readiness probe (GET /_emulator/ready) and what the command line does on SIGTERM and SIGINT: what the
// container image's HEALTHCHECK and `docker stop` rely on.
import { type ChildProcess, spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startEmulator } from "../src/index.js";
import { READY_PATH, Readiness } from "../src/http/readiness.js";
import { EMULATOR_VERSION } from "../src/version.js";

const cli = fileURLToPath(new URL("../dev/htc-emulator.js", import.meta.url));
const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** What Readiness.answer() wrote for a request, without a server. */
function probe(readiness: Readiness, method: string, url: string) {
  let status = 0;
  let headers: Record<string, unknown> = {};
  let body = "";
  const response = {
    writeHead(code: number, h: Record<string, unknown>) {
      status = code;
      headers = h;
      return this;
    },
    end(chunk?: string) {
      body = chunk ?? "";
    },
  };
  const answered = readiness.answer({ method, url } as IncomingMessage, response as unknown as ServerResponse);
  return { answered, status, headers, body };
}

describe("Readiness", () => {
  it("503 with Retry-After while starting and stopping, 200 when ready; HEAD has no body; other paths are not its", () => {
    const readiness = new Readiness();
    expect(probe(readiness, "GET", READY_PATH)).toMatchObject({ answered: true, status: 503, headers: { "retry-after": "1" } });
    readiness.phase = "ready";
    const ready = probe(readiness, "GET", `${READY_PATH}?x=1`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready", version: EMULATOR_VERSION });
    expect(probe(readiness, "HEAD", READY_PATH)).toMatchObject({ status: 200, body: "" });
    expect(probe(readiness, "POST", READY_PATH)).toMatchObject({ status: 405, headers: { allow: "GET, HEAD" } });
    expect(probe(readiness, "GET", "/_emulator/v1/info").answered).toBe(false);
    readiness.phase = "stopping";
    expect(JSON.parse(probe(readiness, "GET", READY_PATH).body)).toEqual({ status: "stopping", version: EMULATOR_VERSION });
  });
});

describe("GET /_emulator/ready", () => {
  it("answers 200 once the emulator runs, without credentials, outside the metrics", async () => {
    const emulator = await startEmulator({ executor: "simulated" });
    try {
      const response = await fetch(`${emulator.rootUrl}${READY_PATH}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(await response.json()).toEqual({ status: "ready", version: EMULATOR_VERSION });
      expect(JSON.stringify(emulator.internals.core.counters)).not.toContain("ready");
    } finally {
      await emulator.stop();
    }
  });
});

/** The command line on a data dir; its output as it comes. */
function spawnCli(dataDir: string): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [cli, "--port", "0", "--data-dir", dataDir, "--executor", "simulated", "--registry", "off"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  return Object.assign(child, { output: () => output });
}

function exit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

async function banner(child: ReturnType<typeof spawnCli>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!child.output().includes("Rescale HTC emulator is running")) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no banner:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("htc-emulator on signals", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal}: stops cleanly and exits 0`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "htcemu-signal-"));
      folders.push(dir);
      const child = spawnCli(dir);
      await banner(child);
      const ended = exit(child);
      child.kill(signal);
      expect(await ended).toEqual({ code: 0, signal: null });
      expect(child.output()).toMatch(new RegExp(`received ${signal}, stopping\\nhtc-emulator: stopped in [\\d.]+ s`));
    });
  }

  it("a SIGTERM during start-up stops the emulator once it is up, and exits 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "htcemu-signal-"));
    folders.push(dir);
    const child = spawnCli(dir);
    const ended = exit(child);
    // The database file appears while the emulator is being assembled, after the handlers are in place.
    while (!existsSync(join(dir, "emulator.sqlite"))) {
      if (child.exitCode !== null) throw new Error(child.output());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill("SIGTERM");
    expect(await ended).toEqual({ code: 0, signal: null });
    expect(child.output()).toContain("stopped in");
  });
});
