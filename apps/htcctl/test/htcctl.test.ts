// The bundled htcctl, run with node on the host against an emulator: with only what a job's runtime injects
// (a job token minted by the admin API), and with an API key and --project-id/--task-id as outside jobs.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundle, jobEnvironment, newTask, runHtcctl, startWorld, tempDir, type World } from "./helpers.js";

let bin: Awaited<ReturnType<typeof bundle>>;
let world: World;

beforeAll(async () => {
  [bin, world] = await Promise.all([bundle(), startWorld()]);
});

afterAll(async () => {
  await world?.emulator.stop();
  bin?.remove();
});

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

describe("inside a job (job token from the environment)", () => {
  it("uploads with keys that keep the relative path, lists and downloads them back", async () => {
    const env = await jobEnvironment(world);
    const work = tempDir("htcctl-up-");
    mkdirSync(join(work, "out", "deep"), { recursive: true });
    writeFileSync(join(work, "a.txt"), "alpha\n");
    writeFileSync(join(work, "out", "b.dat"), "bravo\n");
    writeFileSync(join(work, "out", "deep", "c.dat"), "charlie\n");

    const up = await runHtcctl(bin.file, ["upload", "a.txt", "./out/b.dat", "out/deep/c.dat"], env, work);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(lines(up.stdout)).toHaveLength(3);
    expect(up.stdout).toContain(`/projects/${world.projectId}/tasks/${world.taskId}/out/deep/c.dat`);

    const list = await runHtcctl(bin.file, ["list"], env, work);
    expect(list.code).toBe(0);
    expect(lines(list.stdout).sort()).toEqual(["a.txt", "out/b.dat", "out/deep/c.dat"]);
    const below = await runHtcctl(bin.file, ["list", "out/deep/"], env, work);
    expect(lines(below.stdout)).toEqual(["out/deep/c.dat"]);
    const long = await runHtcctl(bin.file, ["-l", "list", "a.txt"], env, work);
    expect(long.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+Z\s+6\s+a\.txt$/m);

    const back = tempDir("htcctl-down-");
    const down = await runHtcctl(bin.file, ["download", "a.txt", "out/deep/c.dat"], env, back);
    expect(down.code).toBe(0);
    expect(readFileSync(join(back, "a.txt"), "utf8")).toBe("alpha\n");
    expect(readFileSync(join(back, "out", "deep", "c.dat"), "utf8")).toBe("charlie\n");

    // -d puts the keys (with their folders) below another folder.
    const into = await runHtcctl(bin.file, ["download", "out/b.dat", "-d", "results/"], env, back);
    expect(into.code).toBe(0);
    expect(readFileSync(join(back, "results", "out", "b.dat"), "utf8")).toBe("bravo\n");
  });

  it("uploads folders recursively and downloads a folder by its key", async () => {
    const env = await jobEnvironment(world);
    const work = tempDir("htcctl-tree-");
    for (let i = 0; i < 12; i++) {
      mkdirSync(join(work, "tree", `d${i % 3}`), { recursive: true });
      writeFileSync(join(work, "tree", `d${i % 3}`, `f${i}.txt`), `file ${i}\n`);
    }
    const up = await runHtcctl(bin.file, ["upload", "tree", "-q", "-j", "3"], env, work);
    expect(up).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const back = tempDir("htcctl-tree-back-");
    const down = await runHtcctl(bin.file, ["download", "tree"], env, back);
    expect(down.code).toBe(0);
    expect(lines(down.stdout)).toHaveLength(12);
    expect(readFileSync(join(back, "tree", "d2", "f11.txt"), "utf8")).toBe("file 11\n");
  });

  it("reaches the project's shared storage with -s, and keeps it apart from the task's", async () => {
    const env = await jobEnvironment(world);
    const work = tempDir("htcctl-shared-");
    writeFileSync(join(work, "index.txt"), "one\ntwo\n");
    const up = await runHtcctl(bin.file, ["-s", "upload", "index.txt"], env, work);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`/projects/${world.projectId}/shared/index.txt`);
    expect(lines((await runHtcctl(bin.file, ["--project-shared", "list"], env, work)).stdout)).toContain("index.txt");
    expect(lines((await runHtcctl(bin.file, ["list"], env, work)).stdout)).not.toContain("index.txt");
    const back = tempDir("htcctl-shared-back-");
    const down = await runHtcctl(bin.file, ["download", "-s", "index.txt"], env, back);
    expect(down.code).toBe(0);
    expect(readFileSync(join(back, "index.txt"), "utf8")).toBe("one\ntwo\n");
  });

  it("cannot reach another task with its job token", async () => {
    const env = await jobEnvironment(world);
    const other = await newTask(world);
    const result = await runHtcctl(bin.file, ["--task-id", other, "list"], env, tempDir("htcctl-other-"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^htcctl: .*403/);
  });

  it("renews an expired job token with the refresh token", async () => {
    const env = await jobEnvironment(world);
    // 7 hours later the 6-hour bearer token is refused; the refresh token (30 days) still works.
    await fetch(`${world.emulator.rootUrl}/_emulator/v1/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advanceSeconds: 7 * 3600 }),
    });
    const withoutRefresh = { ...env };
    delete withoutRefresh["RESCALE_HTC_REFRESH_TOKEN"];
    const refused = await runHtcctl(bin.file, ["list"], withoutRefresh, tempDir("htcctl-exp-"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("401");
    const renewed = await runHtcctl(bin.file, ["list"], env, tempDir("htcctl-exp-"));
    expect(renewed.stderr).toBe("");
    expect(renewed.code).toBe(0);
    expect(lines(renewed.stdout)).toContain("a.txt");
  });
});

describe("outside jobs (an API key)", () => {
  it("uses RESCALE_API_TOKEN with --project-id and --task-id", async () => {
    const env = { RESCALE_API_TOKEN: world.emulator.apiKey, RESCALE_HTC_API_URL: world.emulator.baseUrl };
    const work = tempDir("htcctl-key-");
    writeFileSync(join(work, "input-1.csv"), "x,y\n1,2\n");
    const up = await runHtcctl(bin.file, ["--project-shared", "--project-id", world.projectId, "upload", "input-1.csv"], env, work);
    expect(up.code).toBe(0);
    const list = await runHtcctl(bin.file, ["--project-id", world.projectId, "--task-id", world.taskId, "list", "out/"], env, work);
    expect(list.code).toBe(0);
    expect(lines(list.stdout).sort()).toEqual(["out/b.dat", "out/deep/c.dat"]);
    const viaApiUrl = await runHtcctl(
      bin.file,
      ["-s", "--project-id", world.projectId, "--api-url", world.emulator.baseUrl, "list", "input-"],
      { RESCALE_API_TOKEN: world.emulator.apiKey },
      work,
    );
    expect(lines(viaApiUrl.stdout)).toEqual(["input-1.csv"]);
  });
});

describe("errors", () => {
  it("exits 1 naming a key that is neither an object nor a folder", async () => {
    const env = await jobEnvironment(world);
    const result = await runHtcctl(bin.file, ["download", "a.txt", "no/such.file"], env, tempDir("htcctl-missing-"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no object or folder "no/such.file"');
  });

  it("exits 2 on a wrong command line, before any request", async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[], {}, /a command is needed/],
      [["copy", "x"], {}, /unknown command "copy"/],
      [["upload"], {}, /needs at least one file/],
      [["--frobnicate", "list"], {}, /Unknown option '--frobnicate'/],
      [["list"], {}, /no project/],
      [["list"], { RESCALE_HTC_PROJECT_ID: "p" }, /no task/],
      [["-s", "list"], { RESCALE_HTC_PROJECT_ID: "p" }, /no credentials/],
      [["upload", "missing.txt"], { RESCALE_HTC_PROJECT_ID: "p", RESCALE_HTC_TASK_ID: "t" }, /cannot read missing.txt: ENOENT/],
      [["upload", "../up.txt"], { RESCALE_HTC_PROJECT_ID: "p", RESCALE_HTC_TASK_ID: "t" }, /'\.\.'/],
    ];
    const cwd = tempDir("htcctl-usage-");
    writeFileSync(join(cwd, "..", "up.txt"), "x");
    for (const [args, env, message] of cases) {
      const result = await runHtcctl(bin.file, args, env, cwd);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const help = await runHtcctl(bin.file, ["--help"], {}, cwd);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: htcctl");
  });
});
