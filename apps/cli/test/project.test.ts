// `htc project …`, `htc region get`, `htc metrics get`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureContext, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;
let home: TestHome;

beforeAll(async () => {
  emulator = await startTestEmulator();
  home = new TestHome();
  await configureContext(home, emulator);
});

afterAll(async () => {
  await emulator?.stop();
  home?.remove();
});

describe("htc project", () => {
  let projectId: string;

  it("create --use makes the new project the context's default; get and list show it", async () => {
    const created = await home.run(["project", "create", "--name", "cli-project", "--description", "from the CLI", "--use", "--json"]);
    expect(created.code).toBe(0);
    const project = created.json();
    expect(project).toMatchObject({ projectName: "cli-project", projectDescription: "from the CLI", workspaceId: emulator.workspaceId });
    projectId = project.projectId;
    expect((await home.run(["config", "get", "emulator", "--json"])).json().projectId).toBe(projectId);

    const got = await home.run(["project", "get", projectId, "--json"]);
    expect(got.code).toBe(0);
    expect(got.json()).toEqual(project);

    const human = await home.run(["project", "get", projectId]);
    expect(human.stdout).toMatch(new RegExp(`^Project:\\s+${projectId}$`, "m"));
    expect(human.stdout).toMatch(/^Registry:\s+\S+\/$/m);

    const other = await home.run(["project", "create", "--name", "second", "--json"]);
    const list = await home.run(["project", "list", "--json"]);
    expect(list.code).toBe(0);
    const ids = list.json().map((p: { projectId: string }) => p.projectId);
    expect(ids).toEqual(expect.arrayContaining([projectId, other.json().projectId]));

    const table = await home.run(["project", "list"]);
    expect(table.stdout).toMatch(/^\s*ID\s+NAME\s+REGIONS/m);
    expect(table.stdout).toMatch(new RegExp(`^\\*\\s+${projectId}\\s+cli-project`, "m"));
    // Without an id, get lists (as the official CLI), -l bounds the list.
    expect((await home.run(["project", "get", "--json"])).json()).toEqual(list.json());
    expect((await home.run(["project", "get", "-l", "1", "--json"])).json()).toEqual(list.json().slice(0, 1));
  });

  it("an unknown project is the API's error (exit 1) with errorType and errorDescription", async () => {
    const human = await home.run(["project", "get", "00000000-0000-0000-0000-000000000000"]);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/^htc: \w+: .*\[404 on GET \/api\/v1\/htc\/projects\/00000000-0000-0000-0000-000000000000\]$/m);
    const json = await home.run(["project", "get", "00000000-0000-0000-0000-000000000000", "--json"]);
    expect(json.errorJson().error).toMatchObject({ status: 404, exitCode: 1 });
    expect(json.errorJson().error.errorDescription).toBeTruthy();
  });

  it("a missing project id is a usage error (exit 2)", async () => {
    const bare = new TestHome();
    try {
      await configureContext(bare, emulator);
      const result = await bare.run(["project", "limits", "get"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("no project id");
      expect((await bare.run(["project", "create"])).code).toBe(2);
    } finally {
      bare.remove();
    }
  });

  it("limits: set, list, change, delete", async () => {
    const set = await home.run(["project", "limits", "set", "--vcpus", "8", "--json"]);
    expect(set.code).toBe(0);
    const limit = set.json();
    expect(limit).toMatchObject({ vCPUs: 8, modifierRole: "PROJECT_ADMIN" });

    const list = await home.run(["project", "limits", "list", "--json"]);
    expect(list.json()).toEqual([expect.objectContaining({ id: limit.id, vCPUs: 8 })]);
    const byDefault = await home.run(["project", "limits"]);
    expect(byDefault.stdout).toMatch(new RegExp(`^${limit.id}\\s+PROJECT_ADMIN\\s+8`, "m"));

    const patched = await home.run(["project", "limits", "set", "--id", String(limit.id), "--vcpus", "4", "--json"]);
    expect(patched.json()).toMatchObject({ id: limit.id, vCPUs: 4 });

    expect((await home.run(["project", "limits", "set", "--vcpus", "-1"])).code).toBe(2);
    expect((await home.run(["project", "limits", "delete"])).code).toBe(2);
    expect((await home.run(["project", "limits", "delete", "--id", String(limit.id)])).code).toBe(0);
    expect((await home.run(["project", "limits", "list", "--json"])).json()).toEqual([]);
    await home.run(["project", "limits", "set", "--vcpus", "2", "--role", "workspace_admin"]);
    expect((await home.run(["project", "limits", "delete", "--all"])).code).toBe(0);
    expect((await home.run(["project", "limits", "list", "--json"])).json()).toEqual([]);
  });

  it("dimensions: get and set from a file or stdin", async () => {
    const before = await home.run(["project", "dimensions", "--json"]);
    expect(before.code).toBe(0);
    expect(Array.isArray(before.json())).toBe(true);

    const workspace = (
      await emulator.client.api.GET("/htc/workspaces/{workspaceId}/dimensions", { params: { path: { workspaceId: emulator.workspaceId } } })
    ).data!;
    const chosen = workspace.slice(0, 1).map(({ derived: _d, ...rest }) => rest);
    const file = join(home.dir, "dimensions.json");
    writeFileSync(file, JSON.stringify(chosen));
    const set = await home.run(["project", "dimensions", "set", file, "--json"]);
    expect(set.code).toBe(0);
    expect(set.json()).toHaveLength(1);
    const after = await home.run(["project", "dimensions", "get", "--json"]);
    expect(after.json()[0]).toMatchObject({ machineType: chosen[0]!.machineType });

    const cleared = await home.run(["project", "dimensions", "set", "-"], { input: "[]" });
    expect(cleared.code).toBe(0);
    expect((await home.run(["project", "dimensions", "set", "-"], { input: "{not json" })).code).toBe(2);
  });

  it("retention-policy: none (404, exit 1), set, get, delete", async () => {
    const none = await home.run(["project", "retention-policy", "get"]);
    expect(none.code).toBe(1);
    const set = await home.run(["project", "retention-policy", "set", "--archive-after", "24", "--delete-after", "48", "--json"]);
    expect(set.code).toBe(0);
    expect(set.json()).toMatchObject({ archiveAfter: 24, deleteAfter: 48 });
    const get = await home.run(["project", "retention-policy", "--json"]);
    expect(get.json()).toMatchObject({ archiveAfter: 24, deleteAfter: 48, projectId });
    const human = await home.run(["project", "retention-policy", "get"]);
    expect(human.stdout).toMatch(/^Archive after:\s+24 h$/m);
    expect((await home.run(["project", "retention-policy", "delete"])).code).toBe(0);
    expect((await home.run(["project", "retention-policy", "get"])).code).toBe(1);
  });
});

describe("htc region get", () => {
  it("lists the regions from /htc/regions, filters them, and shows one", async () => {
    const list = await home.run(["region", "get", "--json"]);
    expect(list.code).toBe(0);
    const regions = list.json();
    expect(regions.length).toBeGreaterThan(0);
    expect(regions[0]).toHaveProperty("supportedArchitectures");

    const aws = await home.run(["region", "get", "--provider", "aws", "--json"]);
    expect(aws.json().every((r: { cloudProvider: string }) => r.cloudProvider === "AWS")).toBe(true);

    const name = regions[0].region as string;
    const one = await home.run(["region", "get", name, "--json"]);
    expect(one.json()).toMatchObject({ region: name });
    const table = await home.run(["region"]);
    expect(table.stdout).toMatch(/^REGION\s+PROVIDER\s+ENABLED\s+ARCHITECTURES/m);

    const values = await home.run(["region", "get", "--all-values", "--json"]);
    expect(values.json()).toContain("AWS_US_EAST_2");
    expect((await home.run(["region", "get", "MARS_1"])).code).toBe(1);
  });
});

describe("htc metrics get", () => {
  it("prints the Prometheus text, or parsed samples with --json", async () => {
    const text = await home.run(["metrics", "get"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^# (HELP|TYPE) htc_/m);
    const json = await home.run(["metrics", "get", "--json"]);
    expect(json.code).toBe(0);
    const samples = json.json();
    expect(samples.length).toBeGreaterThan(0);
    expect(samples[0]).toEqual({ name: expect.stringMatching(/^htc_/), labels: expect.any(Object), value: expect.any(Number) });
  });
});
