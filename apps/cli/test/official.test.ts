// The official `htc` CLI's command lines (rescale-labs/htc-cli, v2/commands), one row each, run in order against
// a strict emulator the way its users type them: credentials from RESCALE_API_KEY, ids stored with `config set`,
// output as tables, `-o json` or `-o yaml`. Then the same command lines with wrong arguments: each is a usage
// error (exit 2) with a one-line message.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireMember, unwrap } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type HtcResult, isServed, reachable, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;
let home: TestHome;
/** Values that later rows use, filled in by earlier ones: {projectId} in a line is vars.projectId. */
const vars: Record<string, string> = {};
/** Why the image rows cannot run here, if they cannot: no registry endpoints, or no Docker to push with. */
let noRegistryApi: string | undefined;
let noDocker: string | undefined;

const LOCAL_IMAGE = "htcemu/shell:1";

beforeAll(async () => {
  emulator = await startTestEmulator();
  home = new TestHome();
  const dir = home.dir;
  Object.assign(vars, { baseUrl: emulator.baseUrl, dir });
  const json = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value, null, 2));
  json("project.json", { projectName: "official-cli", projectDescription: "made from a file" });
  json("limits.json", { modifierRole: "PROJECT_ADMIN", vCPUs: 32 });
  json("retention.json", { archiveAfter: 24, deleteAfter: 168 });
  json("job.json", [
    {
      jobName: "official",
      batchSize: 2,
      htcJobDefinition: { imageName: "app:1", commands: ["sh", "-c", "echo $MODE"], maxVCpus: 1, maxMemory: 256, execTimeoutSeconds: 3600 },
    },
  ]);
  // A dimension the workspace offers, as `project dimensions apply` needs.
  const offered = await unwrap(
    emulator.client.api.GET("/htc/workspaces/{workspaceId}/dimensions", { params: { path: { workspaceId: emulator.workspaceId } } }),
  );
  const { machineType, priority, region, hyperthreading } = offered[0]!;
  json("dimensions.json", [{ machineType, priority, region, hyperthreading }]);

  // The image rows need the registry endpoints; login and push also a Docker engine with the local image, and the
  // emulator's registry.
  const project = await unwrap(emulator.client.api.POST("/htc/projects", { body: { projectName: "probe", projectDescription: "" } }));
  if (!(await isServed(emulator, "GET", `/htc/projects/${project.projectId}/container-registry/images`))) {
    noRegistryApi = "the emulator does not serve the registry endpoints";
  }
  noDocker = noRegistryApi;
  if (!noDocker && spawnSync("docker", ["image", "inspect", LOCAL_IMAGE], { stdio: "ignore" }).status !== 0)
    noDocker = `no Docker engine with the local image ${LOCAL_IMAGE}`;
  const registry = requireMember(project, "containerRegistry");
  if (!noDocker && !(await reachable(registry.split("/")[0]!))) noDocker = `the emulator's registry ${registry} does not answer`;
  if (noDocker) console.warn(`official image rows skipped: ${noDocker}`);
});

afterAll(async () => {
  const registry = vars["registry"];
  if (registry) spawnSync("docker", ["rmi", `${registry}${LOCAL_IMAGE}`], { stdio: "ignore" });
  await emulator?.stop();
  home?.remove();
});

interface Row {
  /** The command line; `{name}` is replaced by vars.name. Words are split on spaces. */
  line: string;
  input?: string;
  /** Checks beyond exit code 0; may store values for later rows in vars. */
  check?: (result: HtcResult) => void;
  /** Needs the registry endpoints ("api"), or also Docker and the emulator's registry ("docker"). */
  needs?: "api" | "docker";
  timeoutMs?: number;
}

const yaml = (result: HtcResult) => parseYaml(result.stdout);

const rows: Row[] = [
  // Configuration, credentials from RESCALE_API_KEY, as the official CLI's README shows.
  { line: "config set api_url {baseUrl}" },
  { line: "config context get", check: (r) => expect(r.stdout).toMatch(/^\*\s+default\b/m) },
  { line: "auth login" },
  { line: "auth whoami -o json", check: (r) => expect(r.json().whoami.user.workspace.id).toBe(emulator.workspaceId) },
  { line: "version", check: (r) => expect(r.stdout).toMatch(/^htc CLI version: \d+\.\d+\.\d+/) },
  { line: "region get", check: (r) => expect(r.stdout).toMatch(/^REGION\s/m) },
  { line: "metrics get", check: (r) => expect(r.stdout).toMatch(/^# (HELP|TYPE) htc_/m) },

  // Projects.
  {
    line: "project create {dir}/project.json -o json",
    check: (r) => {
      expect(r.json()).toMatchObject({ projectName: "official-cli", projectDescription: "made from a file" });
      vars["projectId"] = r.json().projectId;
      vars["registry"] = r.json().containerRegistry;
    },
  },
  {
    line: "project create - -o yaml",
    input: JSON.stringify({ projectName: "from-stdin", projectDescription: "" }),
    check: (r) => expect(yaml(r)).toMatchObject({ projectName: "from-stdin" }),
  },
  { line: "config set project_id {projectId}" },
  { line: "project get", check: (r) => expect(r.stdout).toContain(vars["projectId"]) },
  { line: "project get -l 1 -o json", check: (r) => expect(r.json()).toHaveLength(1) },
  { line: "project get {projectId} -o yaml", check: (r) => expect(yaml(r)).toMatchObject({ projectId: vars["projectId"] }) },
  {
    line: "project limits apply {dir}/limits.json -o json",
    check: (r) => expect(r.json()).toMatchObject({ vCPUs: 32, modifierRole: "PROJECT_ADMIN" }),
  },
  { line: "project limits get -o json", check: (r) => expect(r.json()).toEqual([expect.objectContaining({ vCPUs: 32 })]) },
  { line: "project dimensions apply {dir}/dimensions.json -o json", check: (r) => expect(r.json()).toHaveLength(1) },
  { line: "project dimensions get -o json", check: (r) => expect(r.json()).toHaveLength(1) },
  {
    line: "project retention-policy apply {dir}/retention.json -o json",
    check: (r) => expect(r.json()).toMatchObject({ archiveAfter: 24, deleteAfter: 168 }),
  },
  { line: "project retention-policy get -o yaml", check: (r) => expect(yaml(r)).toMatchObject({ archiveAfter: 24, deleteAfter: 168 }) },

  // Tasks.
  {
    line: "task create sweep first-sweep -o json",
    check: (r) => {
      expect(r.json()).toMatchObject({ taskName: "sweep", taskDescription: "first-sweep", projectId: vars["projectId"] });
      vars["taskId"] = r.json().taskId;
    },
  },
  { line: "config set task_id {taskId}" },
  { line: "task get", check: (r) => expect(r.stdout).toContain(vars["taskId"]) },
  { line: "task get -l 1 -o json", check: (r) => expect(r.json()).toEqual([expect.objectContaining({ taskId: vars["taskId"] })]) },

  // Jobs.
  {
    line: "job submit {dir}/job.json --group g1 -e MODE=fast,SEED=7 -o json",
    check: (r) => {
      const [batch] = r.json();
      expect(batch).toMatchObject({ group: "g1", batchSize: 2 });
      expect(batch.htcJobDefinition.envs).toEqual(
        expect.arrayContaining([
          { name: "MODE", value: "fast" },
          { name: "SEED", value: "7" },
        ]),
      );
      vars["jobId"] = `${batch.parentJobId}:0`;
    },
  },
  {
    line: "job submit {dir}/job.json --group g2 -w /opt/work -o json",
    check: (r) =>
      expect(r.json()[0]).toMatchObject({
        group: "g2",
        htcJobDefinition: { workingDir: "/opt/work" },
        experimental: { cloudFileSystems: true },
      }),
  },
  {
    line: "task stats -o json",
    check: (r) => expect(Object.values(r.json().jobStatuses).reduce((a: number, b) => a + (b as number), 0)).toBe(4),
  },
  { line: "job get", check: (r) => expect(r.stdout).toContain(vars["jobId"]) },
  { line: "job get -l 1 -o json", check: (r) => expect(r.json()).toHaveLength(1) },
  { line: "job get -L 3 -o json", check: (r) => expect(r.json()).toHaveLength(3) },
  {
    line: "job get --group g1 --sort status -r -o json",
    check: (r) => {
      expect(r.json()).toHaveLength(2);
      expect(r.json().every((j: { group: string }) => j.group === "g1")).toBe(true);
    },
  },
  { line: "job get {jobId} -o yaml", check: (r) => expect(yaml(r)).toMatchObject({ jobUUID: vars["jobId"], group: "g1" }) },
  { line: "job logs {jobId} -f", check: (r) => expect(r.stdout).toContain(vars["jobId"]) },
  { line: "job logs {jobId} -l 1", check: (r) => expect(r.stdout.trim().split("\n")).toHaveLength(1) },
  {
    line: "job get --filter SUCCEEDED --group g1 -o json",
    check: (r) => {
      expect(r.json().length).toBeGreaterThan(0);
      expect(r.json().every((j: { status: string; group: string }) => j.status === "SUCCEEDED" && j.group === "g1")).toBe(true);
    },
  },
  { line: "job events {jobId} -o json", check: (r) => expect(r.json().map((e: { status: string }) => e.status)).toContain("SUCCEEDED") },
  { line: "job cancel --group g2", check: (r) => expect(r.stdout).toContain("group g2") },
  { line: "job cancel", check: (r) => expect(r.stdout).toContain("every job of task") },

  // Images: the project's registry.
  { line: "image create-repo my-app -o json", needs: "api", check: (r) => expect(r.json()).toMatchObject({ repositoryName: "my-app" }) },
  { line: "image get -o json", needs: "api", check: (r) => expect(r.json().containerRegistry).toBe(vars["registry"]) },
  { line: "image login-repo", needs: "docker" },
  { line: "image push " + LOCAL_IMAGE, needs: "docker", timeoutMs: 120_000 },
  { line: `image get ${LOCAL_IMAGE} -o json`, needs: "docker", check: (r) => expect(r.json()).toEqual({ status: "READY" }) },

  // The workspace.
  { line: "workspace clusters", check: (r) => expect(r.stdout).toMatch(/^PROJECT ID\s+CLUSTER NAME/m) },
  { line: "workspace dimensions get -o json", check: (r) => expect(r.json().length).toBeGreaterThan(0) },
  {
    line: "workspace retention-policy apply {dir}/retention.json -o json",
    check: (r) => expect(r.json()).toMatchObject({ workspaceId: emulator.workspaceId }),
  },
  { line: "workspace retention-policy get -o yaml", check: (r) => expect(yaml(r)).toMatchObject({ archiveAfter: 24, deleteAfter: 168 }) },

  // Contexts and global settings.
  { line: "config unset task_id" },
  { line: "config set output_format json --global" },
  { line: "task get {taskId}", check: (r) => expect(r.json()).toMatchObject({ taskId: vars["taskId"] }) },
  { line: "config unset output_format --global" },
  { line: "config set api_url {baseUrl} --global" },
  { line: "config context use other", check: (r) => expect(r.stdout).toContain("other") },
  { line: "config set project_id {projectId}" },
  // The new context has no URL of its own: the global api_url applies.
  { line: "project limits get -o json", check: (r) => expect(r.json()).toHaveLength(1) },
  {
    line: "config context get -o json",
    check: (r) => expect(r.json()).toMatchObject({ currentContext: "other", global: { url: emulator.baseUrl } }),
  },
  { line: "--context default project get {projectId} -o json", check: (r) => expect(r.json().projectId).toBe(vars["projectId"]) },
  { line: "config context use default" },
  { line: "config context delete other", check: (r) => expect(r.stdout).toContain("Deleted context other") },
  { line: "config set task_id {taskId}" },
];

/** The row's words, with {name} replaced. */
function words(line: string): string[] {
  return line.split(" ").map((word) =>
    word.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = vars[name];
      if (value === undefined) throw new Error(`no value for {${name}} yet: an earlier row did not run`);
      return value;
    }),
  );
}

describe("the official htc command lines", () => {
  it.for(rows)("htc $line", { timeout: 150_000 }, async (row, ctx) => {
    const skip = row.needs === "api" ? noRegistryApi : row.needs === "docker" ? noDocker : undefined;
    if (skip) return ctx.skip(skip);
    const result = await home.run(words(row.line), {
      env: { RESCALE_API_KEY: emulator.apiKey },
      ...(row.input !== undefined ? { input: row.input } : {}),
      ...(row.timeoutMs ? { timeoutMs: row.timeoutMs } : {}),
    });
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    row.check?.(result);
  });
});

interface BadRow {
  line: string;
  /** What the one-line message says. */
  says: RegExp;
}

const badRows: BadRow[] = [
  { line: "config set api_url", says: /missing the value/ },
  { line: "config set no_such_key value", says: /unknown config key "no_such_key"/ },
  { line: "config set project_id p-1 --global", says: /cannot be set globally/ },
  { line: "config set output_format xml --global", says: /output_format must be one of text, json, yaml/ },
  { line: "config unset", says: /missing required argument 'key'/ },
  { line: "config context use", says: /missing required argument 'name'/ },
  { line: "config context delete no-such-context", says: /no context named "no-such-context"/ },
  { line: "-o xml project get", says: /'-o, --output <format>' argument 'xml' is invalid.*text, json, yaml/ },
  { line: "project get --context", says: /'--context <name>' argument missing/ },
  { line: "project create", says: /needs a name/ },
  { line: "project create {dir}/no-such-file.json", says: /cannot read/ },
  { line: "project get a b", says: /too many arguments/ },
  { line: "project limits apply", says: /needs vCPUs/ },
  { line: "project dimensions apply", says: /missing required argument 'file'/ },
  { line: "project retention-policy apply -", says: /needs archiveAfter/ },
  { line: "task create", says: /needs a name/ },
  { line: "task create a b c", says: /too many arguments/ },
  { line: "task get -l zero", says: /not an integer/ },
  { line: "job submit {dir}/job.json -e NOEQUALS", says: /expected KEY=VALUE/ },
  { line: "job submit -w relative/dir {dir}/job.json", says: /must be an absolute path/ },
  { line: "job submit {dir}/no-such-file.json", says: /cannot read/ },
  { line: "job get -l 2 -L 2", says: /exclude each other/ },
  { line: "job get -L 2 --sort created", says: /cannot be combined with --sort/ },
  { line: "job get --sort nonsense", says: /"nonsense" is not a job field/ },
  { line: "job get --filter DONE", says: /must be one of SUBMITTED_TO_RESCALE/ },
  { line: "job logs", says: /missing required argument 'jobId'/ },
  { line: "job events", says: /missing required argument 'jobId'/ },
  { line: "job get --frobnicate", says: /unknown option '--frobnicate'/ },
  { line: "image create-repo", says: /missing required argument 'repo'/ },
  { line: "workspace retention-policy apply", says: /needs archiveAfter/ },
  { line: "version now", says: /too many arguments/ },
  { line: "frobnicate", says: /unknown command 'frobnicate'/ },
];

describe("the official htc command lines with wrong arguments", () => {
  it.for(badRows)("htc $line: exit 2 with one line", async (row) => {
    const result = await home.run(words(row.line), { env: { RESCALE_API_KEY: emulator.apiKey }, input: "{}" });
    expect(result.code, result.stderr).toBe(2);
    const [first, ...rest] = result.stderr.trimEnd().split("\n");
    expect(first).toMatch(/^htc: /);
    expect(first).toMatch(row.says);
    // At most a hint follows the message.
    expect(
      rest.every((l) => l.startsWith("  hint: ")),
      result.stderr,
    ).toBe(true);
    expect(rest.length).toBeLessThanOrEqual(1);
    expect(result.stdout).toBe("");
  });
});
