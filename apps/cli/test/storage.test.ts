// `htc storage upload|download|list|rm` for task storage (the default, or --task) and project shared storage
// (-s). The storage endpoints may not be served by the emulator under test yet: then these cases are skipped with
// a message, and they run as soon as the endpoints land.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireMember } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureContext, createProjectAndTask, isServed, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;
let home: TestHome;
let ids: { projectId: string; taskId: string };
let served = false;

const SKIP = "the emulator does not serve the storage-token endpoints yet (404 'No operation answers')";

beforeAll(async () => {
  emulator = await startTestEmulator();
  home = new TestHome();
  ids = await createProjectAndTask(emulator, "storage");
  await configureContext(home, emulator, ["--project-id", ids.projectId, "--task-id", ids.taskId]);
  served =
    (await isServed(emulator, "GET", `/htc/projects/${ids.projectId}/storage/token`)) &&
    (await isServed(emulator, "GET", `/htc/projects/${ids.projectId}/tasks/${ids.taskId}/storage/token`));
  if (!served) console.warn(`storage tests skipped: ${SKIP}`);
  mkdirSync(join(home.dir, "data", "nested"), { recursive: true });
  writeFileSync(join(home.dir, "data", "a.txt"), "alpha\n");
  writeFileSync(join(home.dir, "data", "nested", "b c.txt"), "bravo charlie\n");
  writeFileSync(join(home.dir, "single.bin"), Buffer.alloc(3 * 1024 * 1024, 7));
});

afterAll(async () => {
  await emulator?.stop();
  home?.remove();
});

const names = (listing: { files: { path: string }[]; folders: string[] }) =>
  [...listing.folders, ...listing.files.map((f) => f.path)].sort();

describe("htc storage", () => {
  it("uploads a file and a folder to the task's storage, lists them, and downloads them back", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    const file = await home.run(["storage", "upload", join(home.dir, "single.bin"), "inputs/", "--json"]);
    expect(file.code, file.stderr).toBe(0);
    expect(file.json()).toEqual([{ file: join(home.dir, "single.bin"), path: "inputs/single.bin", size: 3 * 1024 * 1024 }]);

    const folder = await home.run(["storage", "upload", join(home.dir, "data"), "--json"]);
    expect(folder.code, folder.stderr).toBe(0);
    expect(
      folder
        .json()
        .map((u: { path: string }) => u.path)
        .sort(),
    ).toEqual(["data/a.txt", "data/nested/b c.txt"]);

    const top = await home.run(["storage", "list", "--json"]);
    expect(top.code).toBe(0);
    expect(top.json().storagePath).toMatch(new RegExp(`^s3://[^/]+/projects/${ids.projectId}/tasks/${ids.taskId}/$`));
    expect(names(top.json())).toEqual(["data/", "inputs/"]);
    const deep = await home.run(["storage", "ls", "data", "-r", "--json"]);
    expect(deep.json().files.map((f: { path: string; size: number }) => [f.path, f.size])).toEqual([
      ["data/a.txt", 6],
      ["data/nested/b c.txt", 14],
    ]);
    const table = await home.run(["storage", "list", "inputs"]);
    expect(table.stdout).toMatch(/^NAME\s+SIZE\s+MODIFIED$/m);
    expect(table.stdout).toMatch(/^inputs\/single\.bin\s+3145728\s+/m);

    const out = join(home.dir, "out");
    const one = await home.run(["storage", "download", "data/a.txt", join(out, "a-copy.txt")]);
    expect(one.code, one.stderr).toBe(0);
    expect(readFileSync(join(out, "a-copy.txt"), "utf8")).toBe("alpha\n");
    const tree = await home.run(["storage", "download", "data", join(out, "tree"), "--json"]);
    expect(tree.code, tree.stderr).toBe(0);
    expect(readFileSync(join(out, "tree", "nested", "b c.txt"), "utf8")).toBe("bravo charlie\n");
    expect(readFileSync(join(out, "tree", "a.txt"), "utf8")).toBe("alpha\n");
    const big = await home.run(["storage", "download", "inputs/single.bin", out]);
    expect(big.code).toBe(0);
    expect(readFileSync(join(out, "single.bin")).equals(Buffer.alloc(3 * 1024 * 1024, 7))).toBe(true);

    const missing = await home.run(["storage", "download", "nothing/here", out]);
    expect(missing.code).toBe(1);
  });

  it("keeps the project's shared storage (-s) apart from task storage, and --task names another task", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    const shared = await home.run(["storage", "upload", "-s", join(home.dir, "data", "a.txt"), "shared.txt", "--json"]);
    expect(shared.code, shared.stderr).toBe(0);
    const sharedList = (await home.run(["storage", "list", "-s", "--json"])).json();
    expect(sharedList.storagePath).toMatch(new RegExp(`/projects/${ids.projectId}/shared/$`));
    expect(names(sharedList)).toContain("shared.txt");
    expect(names((await home.run(["storage", "list", "--json"])).json())).not.toContain("shared.txt");

    const other = (
      await emulator.client.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId: ids.projectId } },
        body: { taskName: "other", taskDescription: "" },
      })
    ).data!;
    const otherId = requireMember(other, "taskId");
    await home.run(["storage", "upload", "--task", otherId, join(home.dir, "data", "a.txt"), "only-here.txt"]);
    expect(names((await home.run(["storage", "list", "--task", otherId, "--json"])).json())).toEqual(["only-here.txt"]);
    expect(names((await home.run(["storage", "list", "--json"])).json())).not.toContain("only-here.txt");
    expect((await home.run(["storage", "list", "-s", "--task", otherId])).code).toBe(2);
  });

  it("rm deletes a file, and a folder with -r", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    await home.run(["storage", "upload", join(home.dir, "data"), "trash"]);
    const folderWithoutR = await home.run(["storage", "rm", "trash"]);
    expect(folderWithoutR.code).toBe(1);
    const one = await home.run(["storage", "rm", "trash/a.txt", "--json"]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json()).toEqual({ deleted: ["trash/a.txt"] });
    const rest = await home.run(["storage", "rm", "-r", "trash", "--json"]);
    expect(rest.json()).toEqual({ deleted: ["trash/nested/b c.txt"] });
    expect((await home.run(["storage", "list", "trash", "-r", "--json"])).json().files).toEqual([]);
  });

  it("refuses remote paths with '..' and local files that do not exist (exit 2)", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    expect((await home.run(["storage", "list", "../other"])).code).toBe(2);
    expect((await home.run(["storage", "upload", join(home.dir, "no-such-file")])).code).toBe(2);
  });
});
