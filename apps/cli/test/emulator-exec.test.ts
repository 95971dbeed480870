// `htc emulator exec`: a throwaway emulator in the htc process, a command run against it, its exit code.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, capture, exitOf, TestHome, waitForOutput } from "./helpers.js";

/** The emulator flags of every test: no Docker, no registry process. */
const FLAGS = ["--executor", "simulated", "--registry", "off"];

/** Whether anything still answers at a base URL. */
async function answers(baseUrl: string): Promise<boolean> {
  try {
    await fetch(`${baseUrl}/auth/token`, { signal: AbortSignal.timeout(5_000) });
    return true;
  } catch {
    return false;
  }
}

describe("htc emulator exec", () => {
  it("runs the command with the emulator's variables, exits with its code and leaves no emulator running", async () => {
    const home = new TestHome();
    try {
      // The script exchanges the key for a token (GET $HTC_BASE_URL/auth/token), reads the admin API at
      // $HTC_EMULATOR_URL, reports what it saw and exits with 3.
      const script = `
        (async () => {
          const env = process.env;
          const token = await fetch(env.HTC_BASE_URL + "/auth/token", { headers: { Authorization: "Token " + env.RESCALE_API_KEY } });
          const body = await token.json();
          const info = await (await fetch(env.HTC_EMULATOR_URL + "/_emulator/v1/info")).json();
          console.log(JSON.stringify({
            baseUrl: env.HTC_BASE_URL, apiKey: env.RESCALE_API_KEY, emulatorUrl: env.HTC_EMULATOR_URL,
            apiUrl: env.RESCALE_HTC_API_URL, context: env.HTC_CONTEXT ?? null, bearer: env.RESCALE_HTC_BEARER_TOKEN ?? null,
            status: token.status, tokenIssued: typeof body.tokenValue === "string" && body.tokenValue.length > 0,
            info: { baseUrl: info.baseUrl, rootUrl: info.rootUrl, inMemory: info.inMemory, executor: info.executor },
          }));
          process.exit(3);
        })().catch((error) => { console.error(error); process.exit(99); });`;
      const result = await home.run(["emulator", "exec", ...FLAGS, "--", process.execPath, "-e", script], {
        // Variables of the caller that would point clients elsewhere are not handed down.
        env: { HTC_CONTEXT: "prod", RESCALE_HTC_BEARER_TOKEN: "someone-elses-token", HTC_BASE_URL: "https://htc.rescale.com/api/v1" },
        cwd: home.dir,
      });
      expect(result.code, result.stderr).toBe(3);
      const seen = result.json();
      expect(seen.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      expect(seen).toMatchObject({
        emulatorUrl: seen.baseUrl.replace(/\/api\/v1$/, ""),
        apiUrl: seen.baseUrl,
        context: null,
        bearer: null,
        status: 200,
        tokenIssued: true,
        info: { baseUrl: seen.baseUrl, rootUrl: seen.baseUrl.replace(/\/api\/v1$/, ""), inMemory: true, executor: "simulated" },
      });
      expect(seen.apiKey).toMatch(/^\S{8,}$/);
      // --port 0 picked a free port (not 8787); the state was in memory (nothing written in the working folder).
      expect(seen.baseUrl).not.toContain(":8787/");
      expect(existsSync(join(home.dir, ".htc-emulator"))).toBe(false);
      // The emulator stopped with the command.
      expect(await answers(seen.baseUrl)).toBe(false);
    } finally {
      home.remove();
    }
  });

  it("points htc itself at the emulator, and exits 0 when the command succeeds", async () => {
    const home = new TestHome();
    try {
      const script = "htc project create --name from-exec --json >/dev/null && htc project list --json";
      const result = await home.run(
        ["emulator", "exec", ...FLAGS, "--", "sh", "-c", script.replaceAll("htc ", `"${process.execPath}" "${BIN}" `)],
        { cwd: home.dir },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toEqual([expect.objectContaining({ projectName: "from-exec" })]);
    } finally {
      home.remove();
    }
  });

  it("hands the emulator's admin token to the command when the emulator requires one", async () => {
    const home = new TestHome();
    try {
      // htc inside the command drives the test controls through HTC_EMULATOR_URL and HTC_EMULATOR_ADMIN_TOKEN.
      const script = 'test "$HTC_EMULATOR_ADMIN_TOKEN" = exec-token-123 && htc emulator scheduler status --json';
      const result = await home.run(
        [
          "emulator",
          "exec",
          ...FLAGS,
          "--admin-token",
          "exec-token-123",
          "--",
          "sh",
          "-c",
          script.replaceAll("htc ", `"${process.execPath}" "${BIN}" `),
        ],
        { cwd: home.dir },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ paused: false });
    } finally {
      home.remove();
    }
  });

  it("keeps the state in --data-dir when one is given", async () => {
    const home = new TestHome();
    try {
      const dataDir = join(home.dir, "state");
      const result = await home.run(
        ["emulator", "exec", ...FLAGS, "--data-dir", dataDir, "--", process.execPath, "-e", "process.exit(0)"],
        { cwd: home.dir },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(existsSync(dataDir)).toBe(true);
    } finally {
      home.remove();
    }
  });

  it("forwards SIGTERM to the command and exits with the command's code", async () => {
    const home = new TestHome();
    const script =
      "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(7); });" +
      "console.log('ready ' + process.env.HTC_BASE_URL); setInterval(() => {}, 1000);";
    const child = home.spawn(["emulator", "exec", ...FLAGS, "--", process.execPath, "-e", script], { cwd: home.dir });
    try {
      const stdout = capture(child, "stdout");
      const [, baseUrl] = await waitForOutput(child, "stdout", /ready (\S+)/);
      const exited = exitOf(child);
      child.kill("SIGTERM");
      expect(await exited).toBe(7);
      expect(stdout.text).toContain("child got SIGTERM");
      expect(await answers(baseUrl!)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      home.remove();
    }
  });

  it("exits with 128+n when a signal kills the command (Ctrl-C is the command's)", async () => {
    const home = new TestHome();
    const child = home.spawn(
      ["emulator", "exec", ...FLAGS, "--", process.execPath, "-e", "console.log('ready'); setInterval(() => {}, 1000);"],
      { cwd: home.dir },
    );
    try {
      await waitForOutput(child, "stdout", /ready/);
      const exited = exitOf(child);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      home.remove();
    }
    // A command that kills itself reports the same way.
    const self = new TestHome();
    try {
      const result = await self.run(
        ["emulator", "exec", ...FLAGS, "--", process.execPath, "-e", "process.kill(process.pid, 'SIGTERM'); setInterval(() => {}, 1000);"],
        {
          cwd: self.dir,
        },
      );
      expect(result.code).toBe(143);
    } finally {
      self.remove();
    }
  });

  it("reports a command that cannot be found (127) and a missing command (2)", async () => {
    const home = new TestHome();
    try {
      const missing = await home.run(["emulator", "exec", ...FLAGS, "--", "htc-no-such-command-here"], { cwd: home.dir });
      expect(missing.code).toBe(127);
      expect(missing.stderr).toContain("cannot run htc-no-such-command-here: command not found");
      const none = await home.run(["emulator", "exec", ...FLAGS], { cwd: home.dir });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain("missing required argument");
    } finally {
      home.remove();
    }
  });
});
