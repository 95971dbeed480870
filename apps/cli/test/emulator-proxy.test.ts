// `htc emulator proxy`: the contract-checking reverse proxy of @htcemu/contract in front of an emulator.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHtcClient, requireMember, unwrap } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capture, exitOf, startTestEmulator, type TestEmulator, TestHome, waitForOutput } from "./helpers.js";

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator?.stop();
});

describe("htc emulator proxy", () => {
  it("forwards the typed client's calls to the target and writes the drift report on SIGINT", async () => {
    const home = new TestHome();
    const report = join(home.dir, "reports", "drift.json");
    const child = home.spawn(["emulator", "proxy", "--target", emulator.baseUrl, "--port", "0", "--report", report]);
    try {
      const stdout = capture(child, "stdout");
      const stderr = capture(child, "stderr");
      const [, proxyBase] = await waitForOutput(child, "stdout", /point clients at (\S+)/);
      expect(proxyBase).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      expect(proxyBase).not.toBe(emulator.baseUrl);

      const htc = createHtcClient({ baseUrl: proxyBase!, apiKey: emulator.apiKey });
      const created = await unwrap(htc.api.POST("/htc/projects", { body: { projectName: "through-the-proxy", projectDescription: "" } }));
      const fetched = await unwrap(
        htc.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: requireMember(created, "projectId") } } }),
      );
      expect(fetched.projectName).toBe("through-the-proxy");
      // The call really reached the emulator behind the proxy.
      expect(emulator.count("GET", new RegExp(`/htc/projects/${created.projectId}$`))).toBeGreaterThanOrEqual(1);

      const exited = exitOf(child);
      child.kill("SIGINT");
      expect(await exited, stderr.text).toBe(0);

      const drift = JSON.parse(readFileSync(report, "utf8"));
      expect(drift.target).toBe(`${emulator.baseUrl}`);
      expect(drift.totals.requests).toBeGreaterThanOrEqual(3);
      expect(drift.totals.withDrift).toBe(0);
      expect(drift.operations.getToken.calls).toBeGreaterThanOrEqual(1);
      expect(drift.operations.createProject).toMatchObject({ calls: 1, callsWithDrift: 0, statuses: { "200": 1 } });
      expect(drift.operations.getProject).toMatchObject({ calls: 1, statuses: { "200": 1 } });
      expect(drift.notExercised).not.toContain("createProject");
      const summary = readFileSync(join(home.dir, "reports", "drift.txt"), "utf8");
      expect(summary).toContain(`Contract drift report: ${emulator.baseUrl}`);
      expect(summary).toMatch(/createProject\s+POST \/htc\/projects\s+1 call/);
      // The summary is printed on stop too.
      expect(stdout.text).toContain("contract proxy listening on");
      expect(stdout.text).toContain("Contract drift report:");
      expect(stdout.text).toContain(`report written to ${report} (summary: ${join(home.dir, "reports", "drift.txt")})`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      home.remove();
    }
  });

  it("prints the final report as JSON with --json, stops on SIGTERM, and writes htc-drift-report.json without --report", async () => {
    const home = new TestHome();
    const child = home.spawn(["emulator", "proxy", "--target", emulator.rootUrl, "--port", "0", "--preserve-host", "--json"], {
      cwd: home.dir,
    });
    try {
      const stdout = capture(child, "stdout");
      const stderr = capture(child, "stderr");
      // With --json, the proxy's own lines go to stderr.
      const [, proxyBase] = await waitForOutput(child, "stderr", /point clients at (\S+)/);
      const htc = createHtcClient({ baseUrl: proxyBase!, apiKey: emulator.apiKey });
      await unwrap(htc.api.GET("/htc/regions"));
      const exited = exitOf(child);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      const drift = JSON.parse(stdout.text);
      expect(drift.target).toBe(`${emulator.rootUrl}/`);
      expect(drift.operations.getRegions).toMatchObject({ calls: 1, callsWithDrift: 0 });
      // The default report, in the working folder, with its path printed at shutdown (stderr under --json).
      const report = join(home.dir, "htc-drift-report.json");
      expect(JSON.parse(readFileSync(report, "utf8"))).toEqual(drift);
      expect(existsSync(join(home.dir, "htc-drift-report.txt"))).toBe(true);
      expect(stderr.text).toContain(`report written to ${report}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      home.remove();
    }
  });

  it("refuses a target that is not an http(s) URL (exit 2)", async () => {
    const home = new TestHome();
    try {
      const bad = await home.run(["emulator", "proxy", "--target", "ftp://example.com"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("invalid --target");
      const missing = await home.run(["emulator", "proxy"]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("--target");
    } finally {
      home.remove();
    }
  });
});
