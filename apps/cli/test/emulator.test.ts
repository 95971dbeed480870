// `htc emulator start|config`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

const EMULATOR_BIN = fileURLToPath(new URL("../../emulator/dev/htc-emulator.js", import.meta.url));

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator?.stop();
});

describe("htc emulator start", () => {
  it("has the same flags and environment variables as htc-emulator", async () => {
    const home = new TestHome();
    try {
      const ours = await home.run(["emulator", "start", "--help"]);
      expect(ours.code).toBe(0);
      const own = ours.stdout.split(/^Global Options:/m)[0]!;
      const theirs = await runNode([EMULATOR_BIN, "--help"], home.env());
      const flags = (text: string) => [...new Set(text.match(/--[a-z][a-z-]+/g) ?? [])].filter((f) => f !== "--help").sort();
      const envs = (text: string) => [...new Set(text.match(/HTC_EMULATOR_[A-Z_]+/g) ?? [])].sort();
      expect(flags(own).filter((f) => f !== "--write-context")).toEqual(flags(theirs));
      expect(envs(own)).toEqual(envs(theirs));
      expect(envs(own).length).toBeGreaterThan(10);
    } finally {
      home.remove();
    }
  });

  it("starts an emulator, writes a context for it, and stops on SIGINT", async () => {
    const home = new TestHome();
    const child = home.spawn(
      ["emulator", "start", "--in-memory", "--port", "0", "--executor", "simulated", "--registry", "off", "--write-context", "--json"],
      {},
    );
    try {
      let stdout = "";
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
      });
      const info = await new Promise<{ baseUrl: string; apiKey: string; context: string; adminToken: string | null }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`emulator did not start: ${stderr}`)), 30_000);
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          stdout += d;
          try {
            const parsed = JSON.parse(stdout);
            clearTimeout(timer);
            resolve(parsed);
          } catch {
            // not complete yet
          }
        });
        child.once("exit", (code) => reject(new Error(`emulator exited with ${code}: ${stderr}`)));
      });
      expect(info.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      expect(info.context).toBe("emulator");
      // On loopback without a token the admin API and the dashboard are open.
      expect(info).toMatchObject({ adminToken: null, dashboardUrl: `${info.baseUrl.replace(/\/api\/v1$/, "")}/ui/` });

      const get = await home.run(["config", "get", "--json"]);
      expect(get.json()).toMatchObject({ context: "emulator", effective: { baseUrl: info.baseUrl } });
      const create = await home.run(["project", "create", "--name", "via-started-emulator", "--json"]);
      expect(create.code).toBe(0);

      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stderr).toContain("received SIGINT, stopping");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      home.remove();
    }
  });

  it("prints the banner of htc-emulator without --json", async () => {
    const home = new TestHome();
    const child = home.spawn(["emulator", "start", "--in-memory", "--port", "0", "--executor", "simulated", "--registry", "off"]);
    try {
      let stdout = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no banner")), 30_000);
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          stdout += d;
          if (stdout.includes("export HTC_BASE_URL=")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(stdout).toContain("Rescale HTC emulator is running");
      expect(stdout).toMatch(/base URL\s+http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      home.remove();
    }
  });
});

describe("htc emulator config", () => {
  it("writes a context for a running emulator with its default user's key, found through the admin API", async () => {
    const home = new TestHome();
    try {
      const result = await home.run(["emulator", "config", "--url", emulator.rootUrl, "--json"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({
        context: "emulator",
        current: true,
        baseUrl: emulator.baseUrl,
        workspaceId: emulator.workspaceId,
      });
      const stored = (await home.run(["config", "get", "emulator", "--json", "--show-key"])).json();
      expect(stored).toMatchObject({ url: emulator.baseUrl, apiKey: emulator.apiKey, current: true });
      expect((await home.run(["project", "list"])).code).toBe(0);

      // A base URL works as well; --no-use leaves the current context alone; --name picks the name.
      const second = await home.run(["emulator", "config", "--url", emulator.baseUrl, "--name", "local", "--no-use", "--json"]);
      expect(second.code).toBe(0);
      expect(second.json()).toMatchObject({ context: "local", current: false });
      expect((await home.run(["config", "list", "--json"])).json().currentContext).toBe("emulator");
      expect((await home.run(["--context", "local", "region", "get"])).code).toBe(0);
    } finally {
      home.remove();
    }
  });

  it("sends the admin token (--admin-token or HTC_EMULATOR_ADMIN_TOKEN) to an emulator that requires one", async () => {
    const guarded = await startTestEmulator({ registry: "off", adminToken: "config-token-123" });
    const home = new TestHome();
    try {
      const refused = await home.run(["emulator", "config", "--url", guarded.rootUrl]);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain("requires its admin token");
      expect(refused.stderr).toContain("HTC_EMULATOR_ADMIN_TOKEN");
      expect(existsSync(home.configFile)).toBe(false);

      const byFlag = await home.run(["emulator", "config", "--url", guarded.rootUrl, "--admin-token", "config-token-123", "--json"]);
      expect(byFlag.code, byFlag.stderr).toBe(0);
      expect(byFlag.json()).toMatchObject({ context: "emulator", baseUrl: guarded.baseUrl });
      const byEnv = await home.run(["emulator", "config", "--url", guarded.rootUrl, "--name", "by-env", "--json"], {
        env: { HTC_EMULATOR_ADMIN_TOKEN: "config-token-123" },
      });
      expect(byEnv.code, byEnv.stderr).toBe(0);
      expect(byEnv.json()).toMatchObject({ context: "by-env", baseUrl: guarded.baseUrl });
    } finally {
      home.remove();
      await guarded.stop();
    }
  });

  it("reports a missing emulator as a network error (exit 4)", async () => {
    const home = new TestHome();
    try {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as { port: number };
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const result = await home.run(["emulator", "config", "--url", `http://127.0.0.1:${port}`]);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain("no emulator answers");
    } finally {
      home.remove();
    }
  });
});

function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
}
