// `htc job submit|get|events|logs|cancel|watch`, against a fast emulator whose jobs succeed and a slow one whose
// jobs fail.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitForGroup } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureContext, createProjectAndTask, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let fast: TestEmulator;
let slow: TestEmulator;
let home: TestHome;
let slowHome: TestHome;
let ids: { projectId: string; taskId: string };
let slowIds: { projectId: string; taskId: string };

beforeAll(async () => {
  [fast, slow] = await Promise.all([
    startTestEmulator(),
    startTestEmulator({
      // Long enough that a cancellation or a watch started by the next `htc` process (about a second to start on
      // a loaded machine) still finds the jobs running.
      simulation: { successRatio: 0, duration: { distribution: "fixed", minMs: 4000 }, startDelayMs: [10, 20], logLines: 3 },
    }),
  ]);
  home = new TestHome();
  slowHome = new TestHome();
  ids = await createProjectAndTask(fast, "jobs");
  slowIds = await createProjectAndTask(slow, "slow-jobs");
  await configureContext(home, fast, ["--project-id", ids.projectId, "--task-id", ids.taskId]);
  await configureContext(slowHome, slow, ["--project-id", slowIds.projectId, "--task-id", slowIds.taskId]);
});

afterAll(async () => {
  await Promise.all([fast?.stop(), slow?.stop()]);
  home?.remove();
  slowHome?.remove();
});

const waitFor = (group: string) => waitForGroup(fast.client, { ...ids, group, intervalMs: 50, timeoutMs: 30_000 });

describe("htc job submit", () => {
  it("splits --count into batches of --batch-size (any number of jobs)", async () => {
    const result = await home.run([
      "job",
      "submit",
      "--image",
      "app:1",
      "--command",
      "true",
      "--count",
      "2500",
      "--group",
      "big",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const batches = result.json();
    expect(batches.map((b: { batchSize: number }) => b.batchSize)).toEqual([1000, 1000, 500]);
    expect(batches.every((b: { group: string }) => b.group === "big")).toBe(true);
    await waitFor("big");
    const jobs = await home.run(["job", "get", "--group", "big", "--view", "SIMPLE", "--json"]);
    expect(jobs.code).toBe(0);
    expect(jobs.json()).toHaveLength(2500);

    const human = await home.run(["job", "submit", "--image", "app:1", "--count", "5", "--batch-size", "2", "--group", "small"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("Submitted 5 job(s) in 3 batch(es)");
    expect(human.stdout).toMatch(/^BATCH \(PARENT JOB ID\)\s+JOBS\s+FIRST JOB\s+LAST JOB$/m);
  });

  it("builds the job definition from flags: shell string or argv, env, claims, limits", async () => {
    const result = await home.run([
      "job",
      "submit",
      "--image",
      "app:2",
      "--command",
      "echo $AWS_BATCH_JOB_ARRAY_INDEX",
      "--env",
      "A=1",
      "--env",
      "B=x=y",
      "--claim",
      "run=42",
      "--max-vcpus",
      "2",
      "--max-memory",
      "512",
      "--timeout",
      "600",
      "--name",
      "flags",
      "--group",
      "flags",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const [batch] = result.json();
    const job = await home.run(["job", "get", `${batch.parentJobId}:0`, "--json"]);
    expect(job.json()).toMatchObject({
      jobUUID: `${batch.parentJobId}:0`,
      imageName: "app:2",
      commands: ["sh", "-c", "echo $AWS_BATCH_JOB_ARRAY_INDEX"],
      maxVCpus: 2,
      maxMemory: 512,
      execTimeoutSeconds: 600,
      group: "flags",
    });
    expect(job.json().envs).toEqual(
      expect.arrayContaining([
        { name: "A", value: "1" },
        { name: "B", value: "x=y" },
      ]),
    );

    // -e takes comma-separated pairs too; a comma not followed by NAME= stays in the value.
    const pairs = await home.run(["job", "submit", "--image", "app:2", "-e", "LIST=a,b,C=3", "-e", "D=4", "-w", "/opt/run", "--json"]);
    expect(pairs.code, pairs.stderr).toBe(0);
    expect(pairs.json()[0].htcJobDefinition).toMatchObject({
      envs: [
        { name: "LIST", value: "a,b" },
        { name: "C", value: "3" },
        { name: "D", value: "4" },
      ],
      workingDir: "/opt/run",
    });
    // The API's echo: every member of the batch, null for the switches that were not sent.
    expect(pairs.json()[0].experimental).toEqual({
      kubernetesSwap: null,
      cloudFileSystems: true,
      rescaleFilesRDFAgent: null,
      privilegedMode: null,
    });

    const argv = await home.run(["job", "submit", "--image", "app:2", "--command", "python", "--command", "run.py", "--json"]);
    const argvJob = await home.run(["job", "get", `${argv.json()[0].parentJobId}:0`, "--json"]);
    expect(argvJob.json().commands).toEqual(["python", "run.py"]);
  });

  it("reads an array of HTCJobSubmitRequest from a file or stdin, adding --env", async () => {
    const requests = [
      { jobName: "one", batchSize: 2, htcJobDefinition: { imageName: "app:1", commands: ["true"] } },
      { jobName: "two", htcJobDefinition: { imageName: "app:1", commands: ["true"] } },
    ];
    const file = join(home.dir, "jobs.json");
    writeFileSync(file, JSON.stringify(requests));
    const fromFile = await home.run(["job", "submit", file, "--group", "file", "--env", "X=1", "--json"]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.json().map((b: { batchSize: number }) => b.batchSize)).toEqual([2, 1]);
    const parent = fromFile.json()[0].parentJobId as string;
    expect((await home.run(["job", "get", `${parent}:1`, "--json"])).json().envs).toEqual([{ name: "X", value: "1" }]);

    const fromStdin = await home.run(["job", "submit", "-", "--group", "stdin", "--json"], { input: JSON.stringify(requests[1]) });
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.json()).toHaveLength(1);
  });

  it("refuses bad input with usage errors (exit 2) and reports the API's validation errors (exit 1)", async () => {
    expect((await home.run(["job", "submit"])).code).toBe(2);
    expect((await home.run(["job", "submit", "--image", "app:1", "--batch-size", "2000"])).code).toBe(2);
    expect((await home.run(["job", "submit", "--image", "app:1", "--env", "NOVALUE"])).code).toBe(2);
    expect((await home.run(["job", "submit", "-"], { input: "[{}]" })).code).toBe(2);
    expect((await home.run(["job", "submit", "-"], { input: "not json" })).code).toBe(2);
    const invalid = await home.run(["job", "submit", "--image", "app:1", "--env", "AWS_BATCH_JOB_ID=1", "--json"]);
    expect(invalid.code).toBe(1);
    expect(invalid.errorJson().error).toMatchObject({ status: 400, exitCode: 1 });
    expect(invalid.errorJson().error.errorDescription).toContain("envs");
  });

  it("--wait watches the submitted jobs: exit 0 when all succeed, 3 when some fail", async () => {
    const ok = await home.run(["job", "submit", "--image", "app:1", "--count", "4", "--group", "wait-ok", "--wait", "--interval", "0.2"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("group wait-ok finished");
    const failed = await slowHome.run([
      "job",
      "submit",
      "--image",
      "app:1",
      "--count",
      "2",
      "--group",
      "wait-bad",
      "--wait",
      "--interval",
      "0.2",
    ]);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(/2 failed of 2/);
  });
});

describe("htc job get", () => {
  let parent: string;

  beforeAll(async () => {
    const submitted = await home.run(["job", "submit", "--image", "app:1", "--count", "12", "--group", "list", "--json"]);
    parent = submitted.json()[0].parentJobId;
    await waitFor("list");
  });

  it("lists jobs with filters, client-side sorting and a limit", async () => {
    const all = await home.run(["job", "get", "--group", "list", "--json"]);
    expect(all.json()).toHaveLength(12);
    expect(all.json().every((j: { status: string }) => j.status === "SUCCEEDED")).toBe(true);

    expect((await home.run(["job", "get", "--group", "list", "--status", "FAILED", "--json"])).json()).toEqual([]);
    expect((await home.run(["job", "get", "--group", "list", "--status", "succeeded", "--json"])).json()).toHaveLength(12);

    const some = await home.run(["job", "get", "--job-id", `${parent}:3`, "--job-id", `${parent}:7`, "--json"]);
    expect(
      some
        .json()
        .map((j: { jobUUID: string }) => j.jobUUID)
        .sort(),
    ).toEqual([`${parent}:3`, `${parent}:7`]);

    const desc = await home.run(["job", "get", "--group", "list", "--sort", "jobUUID:desc", "--limit", "3", "--json"]);
    expect(desc.json().map((j: { jobUUID: string }) => j.jobUUID)).toEqual([`${parent}:11`, `${parent}:10`, `${parent}:9`]);
    const asc = await home.run(["job", "get", "--group", "list", "--sort", "id", "--limit", "2", "--json"]);
    expect(asc.json().map((j: { jobUUID: string }) => j.jobUUID)).toEqual([`${parent}:0`, `${parent}:1`]);
    const completed = (await home.run(["job", "get", "--group", "list", "--sort", "completed:desc", "--json"])).json();
    const times = completed.map((j: { completedAt: string }) => Date.parse(j.completedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    expect((await home.run(["job", "get", "--sort", "createdAt:sideways"])).code).toBe(2);
  });

  it("prints a table, SIMPLE views, and one job's details", async () => {
    const table = await home.run(["job", "get", "--group", "list", "--limit", "2"]);
    expect(table.stdout).toMatch(/^JOB ID\s+STATUS\s+GROUP\s+CREATED\s+STARTED\s+COMPLETED\s+EXIT\s+FAILURE$/m);
    expect(table.stdout.trim().split("\n")).toHaveLength(3);

    const simple = await home.run(["job", "get", "--group", "list", "--view", "simple", "--limit", "1", "--json"]);
    expect(simple.code).toBe(0);
    expect(simple.json()).toHaveLength(1);

    const one = await home.run(["job", "get", `${parent}:0`]);
    expect(one.stdout).toMatch(new RegExp(`^Job:\\s+${parent}:0$`, "m"));
    expect(one.stdout).toMatch(/^Status:\s+SUCCEEDED$/m);
    const missing = await home.run(["job", "get", `${parent}:99`, "--json"]);
    expect(missing.code).toBe(1);
    expect(missing.errorJson().error.status).toBe(404);
  });

  it("events lists the status changes of a job", async () => {
    const events = await home.run(["job", "events", `${parent}:0`, "--json"]);
    expect(events.code).toBe(0);
    const statuses = events.json().map((e: { status: string }) => e.status);
    expect(statuses[0]).toBe("SUBMITTED_TO_RESCALE");
    expect(statuses.at(-1)).toBe("SUCCEEDED");
    const table = await home.run(["job", "events", `${parent}:0`]);
    expect(table.stdout).toMatch(/^TIME\s+STATUS\s+REASON\s+EXIT\s+INSTANCE\s+CANCELLED$/m);
  });
});

describe("htc job logs", () => {
  it("prints a finished job's logs newest first, or --asc, or as JSON", async () => {
    const submitted = await home.run(["job", "submit", "--image", "app:1", "--group", "logs", "--json"]);
    const jobId = `${submitted.json()[0].parentJobId}:0`;
    await waitFor("logs");
    const asc = await home.run(["job", "logs", jobId, "--asc", "--json"]);
    expect(asc.code).toBe(0);
    const lines = asc.json() as { timestamp: string; message: string }[];
    expect(lines.length).toBeGreaterThan(0);
    const desc = await home.run(["job", "logs", jobId, "--json"]);
    expect(desc.json()).toEqual([...lines].reverse());
    const text = await home.run(["job", "logs", jobId, "--asc"]);
    expect(text.stdout.trim().split("\n")).toEqual(lines.map((l) => `${l.timestamp}  ${l.message}`));
    const bare = await home.run(["job", "logs", jobId, "--asc", "--no-timestamps", "--limit", "1"]);
    expect(bare.stdout.trim()).toBe(lines[0]!.message);
  });

  it("-f follows a running job: prints each line once, oldest first, and stops when the job has finished", async () => {
    const submitted = await slowHome.run(["job", "submit", "--image", "app:1", "--group", "follow", "--json"]);
    const jobId = `${submitted.json()[0].parentJobId}:0`;
    const started = Date.now();
    const follow = await slowHome.run(["job", "logs", jobId, "-f", "--interval", "0.2", "--json"]);
    expect(follow.code).toBe(0);
    // The job runs 4 s: the command waited for it.
    expect(Date.now() - started).toBeGreaterThan(1000);
    const followed = follow.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { timestamp: string; message: string });
    const all = (await slowHome.run(["job", "logs", jobId, "--asc", "--json"])).json();
    expect(followed).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const job = (await slowHome.run(["job", "get", jobId, "--json"])).json();
    expect(job.status).toBe("FAILED");
  });
});

describe("htc job cancel and watch", () => {
  it("cancelling a group ends its jobs FAILED with a cancellation event; --all excludes a group", async () => {
    expect((await slowHome.run(["job", "cancel", "--all", "--group", "x"])).code).toBe(2);
    // Paused, the jobs wait in SUBMITTED_TO_RESCALE for the cancellation however slowly the commands start (the
    // 4 s jobs could otherwise end by themselves first on a loaded machine).
    await schedulerOf(slow, "pause");
    const submitted = await slowHome.run(["job", "submit", "--image", "app:1", "--count", "3", "--group", "cancel-me", "--json"]);
    const parent = submitted.json()[0].parentJobId as string;
    const cancel = await slowHome.run(["job", "cancel", "--group", "cancel-me", "--json"]);
    await schedulerOf(slow, "resume");
    expect(cancel.code).toBe(0);
    expect(cancel.json()).toMatchObject({ cancelRequested: true, group: "cancel-me" });
    const watch = await slowHome.run(["job", "watch", "--group", "cancel-me", "--interval", "0.2", "--json"]);
    expect(watch.code).toBe(3);
    expect(watch.json()).toMatchObject({ group: "cancel-me", total: 3, failed: 3, done: true });
    const events = (await slowHome.run(["job", "events", `${parent}:0`, "--json"])).json();
    expect(events.some((e: { userCancelledEvent?: boolean }) => e.userCancelledEvent)).toBe(true);

    const single = await slowHome.run(["job", "submit", "--image", "app:1", "--count", "2", "--group", "cancel-one", "--json"]);
    const one = `${single.json()[0].parentJobId}:1`;
    expect((await slowHome.run(["job", "cancel", "--job-id", one])).code).toBe(0);
  });

  it("watch prints one line per change when stdout is not a terminal, and exits 0 when every job succeeded", async () => {
    await home.run(["job", "submit", "--image", "app:1", "--count", "20", "--group", "watched"]);
    const watch = await home.run(["job", "watch", "--group", "watched", "--interval", "0.1"]);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] group watched: \d+\/20 done: /m);
    expect(watch.stdout).toMatch(/^group watched finished in .*: 20 succeeded, 0 failed of 20$/m);
    expect(watch.stdout).toMatch(/^SUCCEEDED\s+20$/m);

    const json = await home.run(["job", "watch", "--group", "watched", "--json"]);
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({ group: "watched", total: 20, succeeded: 20, failed: 0, done: true });

    // Without --group the whole task is watched.
    const task = await home.run(["job", "watch", "--interval", "0.1", "--json"]);
    expect(task.json()).toMatchObject({ group: null, done: true });
  });

  it("watch fails with exit 3 when jobs failed, 4 on --timeout, 2 for a group without jobs", async () => {
    await slowHome.run(["job", "submit", "--image", "app:1", "--count", "2", "--group", "doomed"]);
    const timeout = await slowHome.run(["job", "watch", "--group", "doomed", "--interval", "0.1", "--timeout", "0.3"]);
    expect(timeout.code).toBe(4);
    const failed = await slowHome.run(["job", "watch", "--group", "doomed", "--interval", "0.2"]);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(/^FAILED\s+2$/m);
    expect(failed.stderr).toContain("htc job get --status FAILED --group doomed");
    const none = await slowHome.run(["job", "watch", "--group", "no-such-group"]);
    expect(none.code).toBe(2);
  });
});

async function schedulerOf(emulator: TestEmulator, action: "pause" | "resume"): Promise<void> {
  const response = await fetch(`${emulator.rootUrl}/_emulator/v1/scheduler/${action}`, { method: "POST" });
  expect(response.status).toBe(200);
}
