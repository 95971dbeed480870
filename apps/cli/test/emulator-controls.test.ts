// The test controls over the admin API: `htc emulator clock|faults|scheduler|step|reset|snapshot`, each against an
// emulator started in this process with the simulated executor.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { submitJobs, unwrap } from "@htcemu/client";
import { createAdminClient } from "@htcemu/client/admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureContext, createProjectAndTask, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;
let home: TestHome;

beforeAll(async () => {
  emulator = await startTestEmulator();
  home = new TestHome();
});

afterAll(async () => {
  home?.remove();
  await emulator?.stop();
});

/** `htc emulator …args` against the shared emulator, found through --emulator-url. */
function control(args: string[], env: Record<string, string | undefined> = {}) {
  return home.run(["emulator", ...args, "--emulator-url", emulator.rootUrl], { env });
}

/** A bearer token of the default user, for raw calls that must see the emulator's answer as is (no retries). */
async function bearerToken(): Promise<string> {
  const response = await fetch(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Token ${emulator.apiKey}` } });
  return ((await response.json()) as { tokenValue: string }).tokenValue;
}

describe("finding the emulator", () => {
  it("takes --emulator-url, then HTC_EMULATOR_URL, then the root of the current target's base URL", async () => {
    const flag = await control(["scheduler", "status", "--json"]);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.json()).toMatchObject({ paused: false });
    // A base URL works as the flag's value too.
    expect((await home.run(["emulator", "clock", "--emulator-url", emulator.baseUrl, "--json"])).code).toBe(0);

    const env = await home.run(["emulator", "clock", "--json"], { env: { HTC_EMULATOR_URL: emulator.rootUrl } });
    expect(env.code, env.stderr).toBe(0);
    expect(env.json()).toMatchObject({ speed: expect.any(Number), now: expect.any(String) });

    const byUrl = await home.run(["--url", emulator.baseUrl, "emulator", "scheduler", "--json"]);
    expect(byUrl.code, byUrl.stderr).toBe(0);

    const context = new TestHome();
    try {
      await configureContext(context, emulator);
      const fromContext = await context.run(["emulator", "clock", "--json"]);
      expect(fromContext.code, fromContext.stderr).toBe(0);
    } finally {
      context.remove();
    }
  });

  it("refuses without an emulator (2), production (2), and reports one that does not answer (4)", async () => {
    const none = await home.run(["emulator", "clock"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no emulator to talk to");
    expect(none.stderr).toContain("--emulator-url");

    const production = await home.run(["--url", "https://htc.rescale.com/api/v1", "emulator", "faults", "list"]);
    expect(production.code).toBe(2);
    expect(production.stderr).toContain("is production");

    const gone = await home.run(["emulator", "scheduler", "status", "--emulator-url", "http://127.0.0.1:9", "--json"]);
    expect(gone.code).toBe(4);
    expect(gone.errorJson().error).toMatchObject({
      exitCode: 4,
      message: expect.stringContaining("no emulator answers at http://127.0.0.1:9"),
    });
  });
});

describe("an emulator that requires its admin token", () => {
  it("is sent the token from --admin-token or HTC_EMULATOR_ADMIN_TOKEN; without it the command fails with a hint and changes nothing", async () => {
    const token = "controls-token-123";
    const guarded = await startTestEmulator({ registry: "off", adminToken: token });
    try {
      const run = (args: string[], env: Record<string, string | undefined> = {}) =>
        home.run(["emulator", ...args, "--emulator-url", guarded.rootUrl], { env });
      const refused = await run(["scheduler", "pause", "--json"]);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.errorJson().error).toMatchObject({ exitCode: 1, status: 401, errorType: "invalid_token" });
      expect(refused.stderr).toContain("--admin-token");
      expect(refused.stderr).toContain("HTC_EMULATOR_ADMIN_TOKEN");
      const admin = createAdminClient(guarded.rootUrl, { adminToken: token });
      expect((await admin.scheduler()).paused).toBe(false);

      const byEnv = await run(["scheduler", "pause", "--json"], { HTC_EMULATOR_ADMIN_TOKEN: token });
      expect(byEnv.code, byEnv.stderr).toBe(0);
      expect(byEnv.json()).toMatchObject({ paused: true });
      const byFlag = await run(["scheduler", "resume", "--admin-token", token, "--json"]);
      expect(byFlag.code, byFlag.stderr).toBe(0);
      expect(byFlag.json()).toMatchObject({ paused: false });
      const wrong = await run(["scheduler", "pause", "--admin-token", "not-the-token"]);
      expect(wrong.code).toBe(1);
      expect((await admin.scheduler()).paused).toBe(false);
    } finally {
      await guarded.stop();
    }
  });
});

describe("htc emulator clock", () => {
  it("prints the time and speed, moves the clock forward and changes its speed", async () => {
    const before = (await control(["clock", "--json"])).json();
    expect(before.speed).toBe(1);

    const advanced = await control(["clock", "--advance", "6h", "--json"]);
    expect(advanced.code, advanced.stderr).toBe(0);
    const jump = Date.parse(advanced.json().now) - Date.parse(before.now);
    expect(jump).toBeGreaterThanOrEqual(6 * 3600_000);
    expect(jump).toBeLessThan(6 * 3600_000 + 60_000);
    // The emulator's clock moved (read through the typed admin client).
    const clock = await createAdminClient(emulator.rootUrl).clock();
    expect(Date.parse(clock.now)).toBeGreaterThanOrEqual(Date.parse(advanced.json().now));

    const table = await control(["clock", "--advance", "1h30m", "--speed", "2"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^Now:\s+\d{4}-\d\d-\d\dT/m);
    expect(table.stdout).toMatch(/^Speed:\s+2$/m);
    expect(table.stdout).toMatch(/^Advanced:\s+1h30m$/m);

    const speed = await control(["clock", "--speed", "1", "--json"]);
    expect(speed.json().speed).toBe(1);
  });

  it("refuses a bad duration or speed (2)", async () => {
    const duration = await control(["clock", "--advance", "6x"]);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain("not a duration");
    expect((await control(["clock", "--speed", "0"])).code).toBe(2);
  });
});

describe("htc emulator faults", () => {
  it("adds a rule from flags that makes the next API call answer 429, then lists, logs and removes it", async () => {
    const added = await control([
      "faults",
      "add",
      "--operation",
      "getProjects",
      "--status",
      "429",
      "--retry-after",
      "1",
      "--times",
      "1",
      "--id",
      "storm",
      "--json",
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()).toMatchObject({
      id: "storm",
      match: { operations: ["getProjects"] },
      api: { status: 429, retryAfterSeconds: 1 },
      times: 1,
      injected: 0,
    });

    const token = await bearerToken();
    const hit = await fetch(`${emulator.baseUrl}/htc/projects`, { headers: { Authorization: `Bearer ${token}` } });
    expect(hit.status).toBe(429);
    expect(hit.headers.get("retry-after")).toBe("1");
    expect(hit.headers.get("x-htc-emulator-fault")).toBe("storm");
    // --times 1: the next call goes through.
    const next = await fetch(`${emulator.baseUrl}/htc/projects`, { headers: { Authorization: `Bearer ${token}` } });
    expect(next.status).toBe(200);

    const table = await control(["faults", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+MATCH\s+FAULT/m);
    expect(table.stdout).toMatch(/^storm\s+op=getProjects\s+429 retry-after 1s\s+1\s+0\s+1\s+2\s+1\s+0\s+true$/m);
    expect((await control(["faults", "--json"])).json()).toEqual([expect.objectContaining({ id: "storm", injected: 1, exhausted: true })]);

    const log = await control(["faults", "log", "--rule", "storm", "--json"]);
    expect(log.json().items).toEqual([
      expect.objectContaining({ ruleId: "storm", kind: "api_status", status: 429, operation: "getProjects" }),
    ]);
    const logTable = await control(["faults", "log", "--limit", "5"]);
    expect(logTable.stdout).toMatch(/storm\s+api_status\s+getProjects GET \S*\/htc\/projects\s+429/);

    const removed = await control(["faults", "remove", "storm"]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain("Fault rule storm removed (matched 2, injected 1)");
    const again = await control(["faults", "remove", "storm", "--json"]);
    expect(again.code).toBe(1);
    expect(again.errorJson().error).toMatchObject({ status: 404 });
  });

  it("adds rules given as JSON (--json <rule>, @file) and job faults from flags; clear removes them all", async () => {
    const inline = await control(["faults", "add", "--json", '{"id":"inline","match":{"operations":["getJwks"]},"api":{"latencyMs":10}}']);
    expect(inline.code, inline.stderr).toBe(0);
    expect(inline.json()).toMatchObject({ id: "inline", api: { latencyMs: 10 } });

    const file = join(home.dir, "rule.json");
    writeFileSync(
      file,
      JSON.stringify({
        id: "from-file",
        match: { group: "sweep-1", attempts: [1] },
        probability: 0.5,
        seed: 42,
        job: { kind: "exitCode", exitCode: 3 },
      }),
    );
    // Flags override the file's fields.
    const fromFile = await control(["faults", "add", `@${file}`, "--times", "2", "--seed", "7"]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toContain("Fault rule from-file added");
    expect(fromFile.stdout).toMatch(/^Match:\s+group=sweep-1 attempts=1$/m);
    expect(fromFile.stdout).toMatch(/^Fault:\s+exitCode 3$/m);
    expect(fromFile.stdout).toMatch(/^Times:\s+2$/m);
    expect(fromFile.stdout).toMatch(/^Seed:\s+7$/m);

    const exit = await control(["faults", "add", "--group", "g2", "--exit-code", "4", "--after", "30s", "--probability", "0.25", "--json"]);
    expect(exit.json()).toMatchObject({
      match: { group: "g2" },
      probability: 0.25,
      job: { kind: "exitCode", exitCode: 4, afterSeconds: 30 },
    });
    const stuck = await control([
      "faults",
      "add",
      "--job-index",
      "0,1",
      "--job-index",
      "3",
      "--stuck-status",
      "runnable",
      "--reason",
      "no capacity",
      "--stuck-for",
      "10m",
      "--json",
    ]);
    expect(stuck.json()).toMatchObject({
      match: { jobIndexes: [0, 1, 3] },
      job: { kind: "stuck", status: "RUNNABLE", statusReason: "no capacity", forSeconds: 600 },
    });
    const oom = await control(["faults", "add", "--job-kind", "outOfMemory", "--task", "no-such-task", "--json"]);
    expect(oom.json()).toMatchObject({ match: { taskId: "no-such-task" }, job: { kind: "outOfMemory" } });
    const drop = await control([
      "faults",
      "add",
      "--method",
      "post,patch",
      "--project",
      "no-such-project",
      "--latency",
      "2s",
      "--drop",
      "response",
      "--skip",
      "1",
      "--json",
    ]);
    expect(drop.json()).toMatchObject({
      match: { methods: ["POST", "PATCH"], projectId: "no-such-project" },
      api: { latencyMs: 2000, drop: "response" },
      skip: 1,
    });

    const cleared = await control(["faults", "clear", "--json"]);
    expect(cleared.json().map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining(["inline", "from-file"]));
    expect(cleared.json()).toHaveLength(6);
    expect((await control(["faults", "list", "--json"])).json()).toEqual([]);
    expect((await control(["faults", "clear"])).stdout).toContain("No fault rules");
  });

  it("reports usage errors (2) before calling the emulator, and the emulator's refusals (1)", async () => {
    const nothing = await control(["faults", "add", "--operation", "getJobs"]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain("say what the rule injects");
    const both = await control(["faults", "add", "--status", "500", "--exit-code", "3"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("exclude each other");
    expect((await control(["faults", "add", "--retry-after", "1"])).code).toBe(2);
    expect((await control(["faults", "add", "--status", "200"])).code).toBe(2);
    expect((await control(["faults", "add", "--latency", "fast"])).code).toBe(2);
    expect((await control(["faults", "add", "{not json"])).code).toBe(2);
    expect((await control(["faults", "add", "--exit-code", "3", "--job-kind", "explode"])).code).toBe(2);

    const unknown = await control(["faults", "add", "--operation", "noSuchOperation", "--status", "500"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("match.operations[0]");
    expect((await control(["faults", "list", "--json"])).json()).toEqual([]);
  });
});

describe("htc emulator scheduler and step", () => {
  it("pauses the scheduler, steps jobs through their lifecycle, and resumes", async () => {
    const ids = await createProjectAndTask(emulator, "stepping");
    const notPaused = await control(["step", "--project", ids.projectId, "--task", ids.taskId]);
    expect(notPaused.code).toBe(1);
    expect(notPaused.stderr).toContain("the scheduler is not paused");
    expect(notPaused.stderr).toContain("htc emulator scheduler pause");

    const paused = await control(["scheduler", "pause"]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^Paused:\s+true$/m);
    try {
      const submitted = await submitJobs(emulator.client, {
        ...ids,
        group: "g",
        count: 3,
        template: { htcJobDefinition: { imageName: "app:1", commands: ["true"] } },
      });
      const parent = submitted.batches[0]!.parentJobId;

      const one = await control(["step", "--project", ids.projectId, "--task", ids.taskId, "--json"]);
      expect(one.code, one.stderr).toBe(0);
      expect(one.json().jobs).toEqual(
        [0, 1, 2].map((i) => ({
          jobId: `${parent}:${i}`,
          from: "SUBMITTED_TO_RESCALE",
          status: "SUBMITTED_TO_PROVIDER",
          attempt: 1,
          moved: true,
        })),
      );

      // Project and task from the environment, like every other command.
      const running = await control(["step", "--group", "g", "--to", "running"], {
        HTC_PROJECT_ID: ids.projectId,
        HTC_TASK_ID: ids.taskId,
      });
      expect(running.code, running.stderr).toBe(0);
      expect(running.stdout).toMatch(/^JOB\s+FROM\s+STATUS\s+ATTEMPT\s+MOVED\s+REASON$/m);
      expect(running.stdout.match(/SUBMITTED_TO_PROVIDER\s+RUNNING\s+1\s+true/g)).toHaveLength(3);
      expect(running.stderr).toContain("3 of 3 job(s) moved");
      expect((await control(["scheduler", "status", "--json"])).json()).toMatchObject({ paused: true, stepped: 3 });

      const failed = await control([
        "step",
        "--project",
        ids.projectId,
        "--task",
        ids.taskId,
        "--job",
        `${parent}:0`,
        "--exit-code",
        "3",
        "--json",
      ]);
      expect(failed.json().jobs).toEqual([
        expect.objectContaining({ jobId: `${parent}:0`, from: "RUNNING", status: "FAILED", moved: true }),
      ]);
      const job0 = await unwrap(
        emulator.client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", {
          params: { path: { ...ids, jobId: `${parent}:0` } },
        }),
      );
      expect(job0.status).toBe("FAILED");
      expect(job0.container?.exitCode).toBe(3);

      const oom = await control([
        "step",
        "--project",
        ids.projectId,
        "--task",
        ids.taskId,
        "--job",
        `${parent}:1`,
        "--failure",
        "outOfMemory",
        "--json",
      ]);
      expect(oom.json().jobs[0]).toMatchObject({ status: "FAILED", moved: true });

      const rest = await control(["step", "--project", ids.projectId, "--task", ids.taskId, "--to", "SUCCEEDED", "--json"]);
      expect(rest.json().jobs).toEqual([
        expect.objectContaining({ jobId: `${parent}:0`, moved: false, reason: expect.any(String) }),
        expect.objectContaining({ jobId: `${parent}:1`, moved: false }),
        expect.objectContaining({ jobId: `${parent}:2`, status: "SUCCEEDED", moved: true }),
      ]);

      const conflicting = await control([
        "step",
        "--project",
        ids.projectId,
        "--task",
        ids.taskId,
        "--exit-code",
        "1",
        "--failure",
        "timeout",
      ]);
      expect(conflicting.code).toBe(2);
      const noTask = await control(["step", "--project", ids.projectId]);
      expect(noTask.code).toBe(2);
      expect(noTask.stderr).toContain("no task id");
    } finally {
      const resumed = await control(["scheduler", "resume", "--json"]);
      expect(resumed.json()).toMatchObject({ paused: false });
    }
  });
});

describe("htc emulator reset and snapshot", () => {
  let own: TestEmulator;
  let dir: TestHome;
  const run = (args: string[]) => dir.run(["emulator", ...args], { env: { HTC_EMULATOR_URL: own.rootUrl }, cwd: dir.dir });

  beforeAll(async () => {
    own = await startTestEmulator();
    dir = new TestHome();
  });

  afterAll(async () => {
    dir?.remove();
    await own?.stop();
  });

  it("exports a snapshot, and importing it restores a project and a task deleted since", async () => {
    const ids = await createProjectAndTask(own, "keep-me");
    const file = join(dir.dir, "state.snapshot");
    const exported = await run(["snapshot", "export", file, "--json"]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.json()).toMatchObject({ file, bytes: expect.any(Number) });
    expect(exported.json().bytes).toBeGreaterThan(100);

    // Delete the task, then everything.
    await unwrap(own.client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }));
    const reset = await run(["reset", "--json"]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.json()).toMatchObject({ projects: 1, tasks: 1 });
    const gone = await own.client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: ids.projectId } } });
    expect(gone.response.status).toBe(404);

    const imported = await run(["snapshot", "import", file]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(`Snapshot ${file} imported`);
    expect(imported.stdout).toMatch(/^Projects:\s+1$/m);
    expect(imported.stdout).toMatch(/^Tasks:\s+1$/m);
    const project = await unwrap(own.client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: ids.projectId } } }));
    expect(project.projectName).toBe("keep-me");
    const task = await unwrap(own.client.api.GET("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }));
    expect(task.lifecycleStatus).toBe("ACTIVE");
  });

  it("names the export as the emulator suggests without a file, and reports bad snapshots (1) and missing files (5)", async () => {
    const exported = await run(["snapshot", "export"]);
    expect(exported.code, exported.stderr).toBe(0);
    const written = readdirSync(dir.dir).filter((f) => /^htc-emulator-.*\.snapshot$/.test(f));
    expect(written).toHaveLength(1);
    expect(exported.stdout).toContain(`Snapshot written to ${join(dir.dir, written[0]!)}`);
    expect(readdirSync(dir.dir).some((f) => f.endsWith(".part"))).toBe(false);

    const garbage = join(dir.dir, "garbage.snapshot");
    writeFileSync(garbage, "not a snapshot");
    const bad = await run(["snapshot", "import", garbage]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("INVALID_SNAPSHOT");
    const missing = await run(["snapshot", "import", join(dir.dir, "nope.snapshot")]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("no such file");
    expect(existsSync(join(dir.dir, "nope.snapshot"))).toBe(false);
  });

  it("resets one workspace, and refuses an unknown one (1)", async () => {
    await createProjectAndTask(own, "in-workspace");
    const reset = await run(["reset", "--workspace", own.workspaceId]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain(`Workspace ${own.workspaceId} reset; removed:`);
    expect(reset.stdout).toMatch(/^Projects:\s+[1-9]\d*$/m);
    const projects = await unwrap(own.client.api.GET("/htc/projects"));
    expect(projects.items).toHaveLength(0);

    const unknown = await run(["reset", "--workspace", "no-such-workspace"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("404");
  });
});
