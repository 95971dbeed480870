// The dashboard end to end, in a real Chromium, against an emulator process (simulated executor, --strict): a
// user's program (this test, through the typed client) submits 1,000 jobs and the dashboard follows them live;
// failed jobs are filtered and one's log opened; a group is cancelled from the dashboard; the submit is found in
// the request inspector and exported as HAR; a file goes up and down through storage; bad input (unknown page,
// missing project, lost emulator) is shown, never a blank page; axe-core finds no serious or critical
// accessibility problem. Screenshots go to apps/dashboard/screenshots/ (HTC_DASHBOARD_README_SHOTS=1 also
// refreshes the few the README shows, in docs/dashboard/).
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHtcClient, type HtcClient, requireMember, unwrap } from "@htcemu/client";
import { type SpawnedEmulator, spawnEmulator } from "@htcemu/contract/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, type RunningBrowser } from "./browser.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const shots = join(here, "..", "screenshots");
const readmeShots = join(here, "..", "..", "..", "docs", "dashboard");
mkdirSync(shots, { recursive: true });
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

const simulation = {
  seed: 7,
  successRatio: 0.9,
  failureExitCodes: [2, 3],
  startDelayMs: [20, 100],
  duration: { distribution: "uniform", minMs: 200, maxMs: 1500 },
  logLines: 4,
};

let emulator: SpawnedEmulator;
let browser: RunningBrowser;
let page: Page;
let client: HtcClient;
let workspaceId: string;
let projectId: string;
let taskId: string;

async function shot(name: string, readme = false): Promise<void> {
  const file = join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: !readme });
  if (readme && process.env.HTC_DASHBOARD_README_SHOTS === "1") {
    mkdirSync(readmeShots, { recursive: true });
    copyFileSync(file, join(readmeShots, `${name}.png`));
  }
}

/** axe-core in the page: no serious or critical violation. */
async function accessible(where: string): Promise<void> {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(
            c: Document,
            o: unknown,
          ): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad, `${where}: ${JSON.stringify(bad, null, 2)}`).toEqual([]);
}

const taskUrl = () => `${emulator.rootUrl}/ui/workspaces/${workspaceId}/projects/${projectId}/tasks/${taskId}`;

/** The figure of a status in the task's legend. */
async function legend(status: string): Promise<number> {
  const text = await page.locator(`.legend li[data-status=${status}] b`).first().textContent();
  return Number((text ?? "").replace(/,/g, ""));
}

async function groupCount(group: string, status: string): Promise<number> {
  const text = await page.locator(`tr[data-group="${group}"] td[data-status=${status}]`).textContent();
  return Number((text ?? "").replace(/,/g, ""));
}

beforeAll(async () => {
  emulator = await spawnEmulator({
    args: ["--executor", "simulated", "--registry", "off", "--strict", "--simulation", JSON.stringify(simulation)],
  });
  client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
  const project = await unwrap(
    client.api.POST("/htc/projects", { body: { projectName: "Face tagging", projectDescription: "the tutorial's project" } }),
  );
  projectId = requireMember(project, "projectId");
  const task = await unwrap(
    client.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId } },
      body: { taskName: "March photos", taskDescription: "" },
    }),
  );
  taskId = requireMember(task, "taskId");
  const whoami = await unwrap(client.api.GET("/auth/whoami"));
  workspaceId = requireMember(requireMember(requireMember(whoami, "user"), "workspace"), "id");
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on("dialog", (dialog) => void dialog.accept());
});

afterAll(async () => {
  await browser?.close();
  await emulator?.stop();
});

describe("the dashboard", () => {
  it("shows workspaces and projects at /ui/", async () => {
    const started = Date.now();
    await page.goto(`${emulator.rootUrl}/ui/`);
    await page.getByRole("link", { name: "Face tagging" }).waitFor();
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(page.getByRole("heading", { name: "Emulator Workspace" }).count()).resolves.toBe(1);
    await shot("home");
    await accessible("home");
    await page.getByRole("link", { name: "Face tagging" }).click();
    await page.getByRole("link", { name: "March photos" }).waitFor();
    await shot("project");
    await accessible("project");
  });

  it("follows 1,000 simulated jobs live: the counts and the chart reach them", async () => {
    await page.goto(taskUrl());
    await page.locator(".live.on").first().waitFor();
    await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId }, query: { group: "sweep-1" } },
        body: [
          { jobName: "tagger", batchSize: 1000, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["sh", "-c", "echo tagging"] } },
        ],
      }),
    );
    // Live, without a reload: the total appears, then every job ends.
    await page.waitForFunction(() => document.querySelector(".legend li:last-child b")?.textContent === "1,000", undefined, {
      timeout: 20_000,
    });
    await page.waitForFunction(
      () => {
        const n = (s: string) => Number(document.querySelector(`.legend li[data-status=${s}] b`)?.textContent?.replace(/,/g, "") ?? "0");
        return n("SUCCEEDED") + n("FAILED") === 1000;
      },
      undefined,
      { timeout: 45_000 },
    );
    const succeeded = await legend("SUCCEEDED");
    const failed = await legend("FAILED");
    expect(succeeded + failed).toBe(1000);
    expect(failed).toBeGreaterThan(0);
    // The chart's last point holds the same counts, after points on the way.
    const chart = page.locator(".chart");
    await expect(chart.getAttribute("aria-label")).resolves.toContain(`Succeeded ${succeeded}, Failed ${failed}`);
    expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThan(2);
    await expect(page.locator(".chart canvas").count()).resolves.toBe(1);
    expect(await groupCount("sweep-1", "SUCCEEDED")).toBe(succeeded);
    // The job table pages through them, by submission time.
    await page.getByText("Page 1 of 20 · 1,000 jobs").waitFor();
    await shot("task", true);
    await accessible("task");
  });

  it("filters the failed jobs and opens one's log", async () => {
    await page.locator("#job-status").selectOption("FAILED");
    const failed = await legend("FAILED");
    await page.getByText(`${failed.toLocaleString("en-US")} jobs`).waitFor();
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("table.jobs tbody tr")];
      return rows.length > 0 && rows.every((r) => r.getAttribute("data-status") === "FAILED");
    });
    await page.locator("table.jobs tbody tr a").first().click();
    await page.getByRole("heading", { name: /^Job / }).waitFor();
    await page.getByText("job finished").waitFor();
    await expect(page.locator("[data-testid=exit-code]").textContent()).resolves.toMatch(/^[23]$/);
    const lines = page.locator(".log > div");
    await expect(lines.count()).resolves.toBe(simulation.logLines);
    await expect(lines.last().textContent()).resolves.toMatch(/ended: exit code [23]/);
    await page.getByRole("heading", { name: "Attempt 1" }).waitFor();
    await shot("job", true);
    await accessible("job");
  });

  it("cancels a group from the dashboard and shows the counts change", async () => {
    await page.goto(`${emulator.rootUrl}/ui/controls`);
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByTestId("scheduler-state").getByText("Paused").waitFor();
    await shot("controls");
    await accessible("controls");
    await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId }, query: { group: "held" } },
        body: [{ batchSize: 100, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["true"] } }],
      }),
    );
    await page.goto(taskUrl());
    await page.locator('tr[data-group="held"]').waitFor();
    await page.waitForFunction(
      () => document.querySelector('tr[data-group="held"] td[data-status=SUBMITTED_TO_RESCALE]')?.textContent === "100",
    );
    await page.getByRole("button", { name: "Cancel group held" }).click();
    await page.waitForFunction(
      () => document.querySelector('tr[data-group="held"] td[data-status=FAILED]')?.textContent === "100",
      undefined,
      {
        timeout: 15_000,
      },
    );
    expect(await groupCount("held", "SUBMITTED_TO_RESCALE")).toBe(0);
    await expect(page.getByRole("button", { name: "Cancel group held" }).count()).resolves.toBe(0);
    await page.goto(`${emulator.rootUrl}/ui/controls`);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByTestId("scheduler-state").getByText("Running").waitFor();
  });

  it("drives the test controls: the clock, a fault rule and its injection log, a snapshot out and back in", async () => {
    await page.goto(`${emulator.rootUrl}/ui/controls`);
    const clock = page.getByTestId("clock-now");
    await clock.waitFor();
    const before = Date.parse(`${(await clock.textContent())!.replace(" ", "T")}`);
    await page.getByLabel("Advance by (hours)").fill("2");
    await page.getByRole("button", { name: "Advance" }).click();
    await page.waitForFunction(
      (was) => Date.parse(`${document.querySelector("[data-testid=clock-now]")!.textContent!.replace(" ", "T")}`) - was >= 2 * 3600_000,
      before,
    );
    // The example rule: three 429s on getJobs.
    await page.getByRole("button", { name: "Add rule" }).click();
    await page.getByRole("button", { name: /^Remove rule / }).waitFor();
    const refused = await client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: { projectId, taskId } } });
    expect(refused.response.status).toBe(429);
    await page.getByRole("cell", { name: "api_status" }).first().waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "Remove all" }).click();
    await page.getByText("No fault rules.").waitFor();
    // A snapshot of the whole state, imported again: the same state.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export snapshot" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^htc-emulator-.*\.snapshot$/);
    const snapshot = (await download.path())!;
    await page.getByLabel("Snapshot to import").setInputFiles(snapshot);
    await page.getByRole("button", { name: /^Import / }).click();
    await page.getByRole("status").filter({ hasText: "Imported: 1 projects, 1 tasks, 1100 jobs" }).waitFor();
  });

  it("shows the API's error body when the API refuses a button", async () => {
    await page.goto(`${emulator.rootUrl}/ui/workspaces/${workspaceId}/projects/${projectId}`);
    // Archiving works once every job has ended; a second task with a queued job cannot be archived.
    const busy = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId } },
        body: { taskName: "busy", taskDescription: "" },
      }),
    );
    await unwrap(emulatorAdmin("/scheduler/pause", "POST"));
    await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId: requireMember(busy, "taskId") } },
        body: [{ batchSize: 1, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["true"] } }],
      }),
    );
    await page.reload();
    await page.getByRole("button", { name: "Archive task busy" }).click();
    const error = page.locator(".error").first();
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/400 VALIDATION_ERROR.*lifecycleStatus/s);
    await unwrap(emulatorAdmin("/scheduler/resume", "POST"));
  });

  it("finds the submit in the request inspector and exports it as HAR", async () => {
    await page.goto(`${emulator.rootUrl}/ui/inspector`);
    await page.getByLabel("Operation").fill("submitJobs");
    await page.getByLabel("Operation").press("Enter");
    // Only submits are listed now (the test's own three).
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("table.requests tbody tr")];
      return rows.length === 3 && rows.every((r) => r.getAttribute("data-operation") === "submitJobs");
    });
    const row = page.locator('table.requests tr[data-operation="submitJobs"]').last();
    await row.waitFor();
    await row.click();
    const detail = page.locator(".detail");
    await detail.getByText("Request body").waitFor();
    await expect(detail.textContent()).resolves.toContain("Bearer [redacted]");
    await expect(detail.locator(".body.mono").first().textContent()).resolves.toContain('"imageName": "htcemu/shell:1"');
    await shot("inspector", true);
    await accessible("inspector");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export HAR" }).click()]);
    const har = readFileSync((await download.path())!, "utf8");
    const parsed = JSON.parse(har) as { log: { version: string; entries: { request: { method: string; url: string } }[] } };
    expect(parsed.log.version).toBe("1.2");
    expect(parsed.log.entries.some((e) => e.request.method === "POST" && e.request.url.endsWith("/jobs/batch?group=sweep-1"))).toBe(true);
    expect(har).not.toContain(emulator.apiKey);
  });

  it("uploads a file into a task's storage and downloads it again", async () => {
    await page.goto(`${emulator.rootUrl}/ui/workspaces/${workspaceId}/projects/${projectId}/storage?task=${taskId}`);
    await page.getByText("This folder is empty.").waitFor();
    const content = `frame,faces\n0001.png,3\n${"x".repeat(2000)}\n`;
    await page
      .getByLabel("File to upload into this folder")
      .setInputFiles({ name: "faces.csv", mimeType: "text/csv", buffer: Buffer.from(content) });
    await page.getByRole("button", { name: "Upload faces.csv" }).click();
    const file = page.locator('tr[data-file="faces.csv"]');
    await file.waitFor();
    await expect(file.textContent()).resolves.toContain("2.0 KiB");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download faces.csv" }).click()]);
    expect(download.suggestedFilename()).toBe("faces.csv");
    expect(readFileSync((await download.path())!, "utf8")).toBe(content);
    await shot("storage");
    await accessible("storage");
  });

  it("answers an unknown page with a way back, and a missing project with the API's 404", async () => {
    await page.goto(`${emulator.rootUrl}/ui/no/such/page`);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
    await accessible("not found");
    await page.getByRole("link", { name: "Back to the workspaces" }).click();
    await page.getByRole("heading", { name: "Workspaces and projects" }).waitFor();

    await page.goto(`${emulator.rootUrl}/ui/workspaces/${workspaceId}/projects/00000000-0000-0000-0000-000000000000`);
    const error = page.locator(".error").first();
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/404 not_found/);
    await expect(error.textContent()).resolves.toContain("does not exist");
    await page.goto(`${taskUrl()}/jobs/${encodeURIComponent("nope:0")}`);
    await page.locator(".error", { hasText: "404 NOT_FOUND" }).waitFor();
    await expect(page.getByText("This job cannot be shown").count()).resolves.toBe(1);
    await shot("not-found");
  });

  it("shows a lost emulator and comes back when it does", async () => {
    await page.goto(taskUrl());
    await page.locator(".live.on").first().waitFor();
    await page.getByRole("heading", { name: /March photos/ }).waitFor();
    await page.locator("table.jobs").waitFor();
    const port = new URL(emulator.rootUrl).port;
    await emulator.stop();
    await page.getByRole("alert").filter({ hasText: "Lost the connection to the emulator" }).waitFor({ timeout: 15_000 });
    await page.getByText("connecting…").waitFor();
    await expect(page.locator("main").textContent()).resolves.toContain("March photos"); // still shown, not blank
    await shot("offline");
    // The same port again (a fresh, empty emulator): the dashboard reconnects by itself.
    emulator = await spawnEmulator({ args: ["--port", port, "--executor", "simulated", "--registry", "off"] });
    await page.getByRole("alert").filter({ hasText: "Lost the connection" }).waitFor({ state: "detached", timeout: 20_000 });
    // The new emulator (in memory) has none of this: the API's 404 is shown.
    await page.locator(".error", { hasText: "404" }).first().waitFor();
  });
});

function emulatorAdmin(path: string, method: string): Promise<{ data?: unknown; error?: unknown; response: Response }> {
  return fetch(`${emulator.rootUrl}/_emulator/v1${path}`, { method }).then(async (response) => ({ data: await response.json(), response }));
}
