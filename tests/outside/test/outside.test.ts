// The published packages as a user gets them: packed, installed with npm into an empty project outside the
// workspace, and used exactly as the README's "Use it in your project" section shows (every snippet of it runs
// here), plus what a published package must get right (types under nodenext, require(), the package shape, bad
// input and an unsupported Node).
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishedPackages } from "../../../scripts/release/packages.mjs";
import { OutsideProject, type Result } from "./project.js";
import { commandLines, outsideSnippets, snippet } from "./readme.js";

const snippets = outsideSnippets();
const published = publishedPackages();
const version = published[0]!.manifest.version;
const project = new OutsideProject();
/** An upload large enough for the emulator to hash it in a worker thread: that thread's module must ship too. */
const largeUpload = readFileSync(new URL("../scripts/large-upload.mjs", import.meta.url), "utf8");

beforeAll(async () => {
  await project.install();
});
afterAll(() => project.close());

/** Output of a failed run, for the assertion's message. */
const show = (r: Result) => `exit ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("the README's snippets", () => {
  it("are all run here", () => {
    const known = /^(install|start|htc|file \S+)$/;
    expect(snippets.map((s) => s.marker).filter((m) => !known.test(m))).toEqual([]);
    expect(snippets.length).toBeGreaterThanOrEqual(8);
  });

  it("install published packages (the test installs the same ones from their tarballs)", () => {
    const named = commandLines(snippet(snippets, "install").code).flatMap((line) =>
      line.split(/\s+/).filter((w) => w.startsWith("@htcemu/")),
    );
    const names = new Set(published.map((p) => p.name));
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(names, name).toContain(name);
  });
});

describe("htc-emulator and htc", () => {
  let baseUrl: string;
  let port: number;
  let emulator: ReturnType<OutsideProject["spawn"]>;

  beforeAll(async () => {
    port = await freePort();
    // The README's command, on a port that is free here.
    const [line] = commandLines(snippet(snippets, "start").code);
    emulator = project.spawn(line!.replace("--port 8787", `--port ${port}`));
    baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${emulator.output.stderr}`)), 60_000);
      emulator.stdout!.on("data", () => {
        const url = /base URL\s+(\S+)/.exec(emulator.output.stdout)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      emulator.once("exit", (code) => reject(new Error(`htc-emulator exited with ${code}:\n${emulator.output.stderr}`)));
    });
  });
  afterAll(() => {
    emulator.kill("SIGTERM");
  });

  it("npx htc-emulator starts and answers the API with the key it was given", async () => {
    expect(baseUrl).toBe(`http://127.0.0.1:${port}/api/v1`);
    const response = await fetch(`${baseUrl}/auth/token`, { headers: { authorization: "Token local-dev-key" } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { tokenValue?: string }).tokenValue).toBeTruthy();
  });

  it("serves the dashboard at /ui/ from the installed @htcemu/dashboard: its page and the assets the page loads", async () => {
    const root = new URL(baseUrl).origin;
    expect(emulator.output.stdout).toContain(`${root}/ui/`);
    const page = await fetch(`${root}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="\/ui\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(
      assets.some((a) => a.endsWith(".js")),
      html,
    ).toBe(true);
    const installed = join(project.dir, "node_modules", "@htcemu", "dashboard", "dist");
    expect(html).toBe(readFileSync(join(installed, "index.html"), "utf8"));
    for (const asset of assets) {
      const response = await fetch(`${root}/ui/${asset}`);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get("cache-control"), asset).toContain("immutable");
      expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(join(installed, asset))), asset).toBe(true);
    }
    // A route of the single-page app gets the page; a missing asset is a 404, not the page.
    expect(await (await fetch(`${root}/ui/tasks/none`)).text()).toBe(html);
    expect((await fetch(`${root}/ui/assets/missing.js`)).status).toBe(404);
  });

  it("npx htc --version and htc project list work against it", async () => {
    const lines = commandLines(snippet(snippets, "htc").code).map((line) => line.replaceAll(":8787/", `:${port}/`));
    expect(lines).toHaveLength(2);
    const versionRun = await project.shell(lines[0]!);
    expect(versionRun.code, show(versionRun)).toBe(0);
    expect(versionRun.stdout.trim()).toBe(version);
    const created = await project.shell(`npx htc --url ${baseUrl} --key local-dev-key --json project create --name outside`);
    expect(created.code, show(created)).toBe(0);
    const list = await project.shell(lines[1]!);
    expect(list.code, show(list)).toBe(0);
    expect(list.stdout).toContain("outside");
  });

  it("htc -o yaml prints YAML (the yaml package, loaded from node_modules only for that format)", async () => {
    const result = await project.shell(`npx htc --url ${baseUrl} --key local-dev-key -o yaml project create --name as-yaml`);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^projectName: as-yaml$/m);
    expect(() => JSON.parse(result.stdout)).toThrow();
  });

  it("hashes a large upload in a worker thread started from the bundle (build/bin/hash-thread.js)", async () => {
    project.write("large-upload.mjs", largeUpload);
    const result = await project.run("node", ["large-upload.mjs"], {
      env: project.env({ HTC_BASE_URL: baseUrl, RESCALE_API_KEY: "local-dev-key" }),
      timeoutMs: 60_000,
    });
    expect(result.code, show(result)).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ etag: true, bytes: true, threads: null });
  });

  it("production.mjs reads its target from the environment (here the emulator stands in for production)", async () => {
    project.write("production.mjs", snippet(snippets, "file production.mjs").code);
    const result = await project.run("node", ["production.mjs"], {
      env: project.env({ HTC_BASE_URL: baseUrl, RESCALE_API_KEY: "local-dev-key" }),
    });
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^signed in as \S+@\S+\n$/);
  });
});

describe("bad input", () => {
  it("htc-emulator: an unknown flag or a bad value is one line and exit code 2", async () => {
    for (const args of ["--no-such-flag", "--executor nowhere", "--port eighty"]) {
      const result = await project.shell(`npx htc-emulator ${args}`);
      expect(result.code, `${args}\n${show(result)}`).toBe(2);
      expect(result.stderr.trim().split("\n")[0], args).toMatch(/^htc-emulator: /);
      expect(result.stderr, args).not.toMatch(/\n\s+at /);
    }
  });

  it("htc: an unknown flag is a clear message and exit code 2", async () => {
    const result = await project.shell("npx htc --no-such-flag");
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toMatch(/^htc: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unsupported Node gets one clear line from each command, not a stack trace", async () => {
    // Node 18 as far as the commands can tell: process.versions says so before they run.
    const old = 'data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"18.20.4"}})';
    for (const bin of ["htc", "htc-emulator", "htcctl"]) {
      const result = await project.run("node", ["--import", old, join("node_modules", ".bin", bin), "--version"]);
      expect(result.code, `${bin}\n${show(result)}`).toBe(1);
      expect(result.stderr, bin).toMatch(new RegExp(`^${bin}: Node\\.js 20(\\.19)? or newer is required \\(this is v\\S+\\)\\n$`));
      expect(result.stdout, bin).toBe("");
    }
  });
});

describe("embedding", () => {
  it("flow.mjs, a plain Node ES module, runs a sweep and exits by itself", async () => {
    project.write("flow.mjs", snippet(snippets, "file flow.mjs").code);
    // No process.exit() in the script: if anything stayed open, node would not end and the timeout would fail it.
    const result = await project.run("node", ["flow.mjs"], { timeoutMs: 60_000 });
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^\d+ of 20 jobs succeeded\n$/);
  });

  it("startEmulator() hashes a large upload in a worker thread of the installed build", async () => {
    project.write("large-upload.mjs", largeUpload);
    const result = await project.run("node", ["large-upload.mjs"], { timeoutMs: 60_000 });
    expect(result.code, show(result)).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ etag: true, bytes: true, threads: 1 });
  });

  it("the emulator package's own README example runs", async () => {
    const readme = readFileSync(new URL("../../../apps/emulator/README.md", import.meta.url), "utf8");
    const code = /```js\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    project.write("emulator-readme.mjs", `${code}\n`);
    const result = await project.run("node", ["emulator-readme.mjs"], { timeoutMs: 60_000 });
    expect(result.code, show(result)).toBe(0);
  });

  it("the vitest example passes", async () => {
    project.write("test/pipeline.test.ts", snippet(snippets, "file test/pipeline.test.ts").code);
    const result = await project.run("npx", ["vitest", "run", "test/pipeline.test.ts"]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/1 passed/);
  });

  it("the jest example passes with ES modules, and jest exits without being forced", async () => {
    project.write("jest/project.test.js", snippet(snippets, "file jest/project.test.js").code);
    const result = await project.run("node", ["--experimental-vm-modules", "node_modules/jest/bin/jest.js", "jest/"]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stderr).toMatch(/Tests:\s+1 passed/);
    expect(result.stderr).not.toMatch(/did not exit|open handle/i);
  });

  it("the node:test example passes", async () => {
    project.write("node-test/project.test.mjs", snippet(snippets, "file node-test/project.test.mjs").code);
    const result = await project.run("node", ["--test", "node-test/"]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/# pass 1\n/);
  });

  it("require() loads the packages from CommonJS too", async () => {
    project.write(
      "require.cjs",
      [
        'const { createHtcClient } = require("@htcemu/client");',
        'const { startEmulator } = require("@htcemu/emulator");',
        'const { createAdminClient } = require("@htcemu/client/admin");',
        "startEmulator({ executor: 'simulated' }).then(async (emulator) => {",
        "  const { data } = await createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey }).api.GET('/auth/whoami');",
        "  await createAdminClient(emulator.rootUrl).info();",
        "  console.log(typeof data.user.email);",
        "  await emulator.stop();",
        "});",
        "",
      ].join("\n"),
    );
    const result = await project.run("node", ["require.cjs"], { timeoutMs: 60_000 });
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toBe("string\n");
    expect(result.stderr).toBe("");
  });
});

describe("types", () => {
  it("a TypeScript file importing the emulator and the client type-checks under module/moduleResolution nodenext", async () => {
    project.write(
      "tsconfig.json",
      `${JSON.stringify(
        {
          compilerOptions: {
            module: "nodenext",
            moduleResolution: "nodenext",
            target: "es2022",
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ["node"],
          },
          include: ["check.ts", "test/pipeline.test.ts"],
        },
        null,
        2,
      )}\n`,
    );
    project.write(
      "check.ts",
      [
        'import { type components, createHtcClient, HtcApiError, type HtcClient, type paths } from "@htcemu/client";',
        'import { createAdminClient } from "@htcemu/client/admin";',
        'import { createHtcClientFromEnvironment } from "@htcemu/client/node";',
        'import { type RunningEmulator, type StartOptions, startEmulator } from "@htcemu/emulator";',
        'import type { operations } from "@htcemu/openapi/types";',
        'import type { paths as AdminPaths } from "@htcemu/openapi/types/admin";',
        "",
        'const options: StartOptions = { executor: "simulated", inMemory: true };',
        "const emulator: RunningEmulator = await startEmulator(options);",
        "const client: HtcClient = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey });",
        'const status: components["schemas"]["RescaleJobStatus"] = "SUCCEEDED";',
        'type ProjectsPath = keyof paths & "/htc/projects";',
        'const op: keyof operations = "getProjects";',
        'const adminPath: keyof AdminPaths = "/info";',
        'const { data } = await client.api.GET("/htc/projects");',
        "const names: string[] = (data?.items ?? []).map((p) => p.projectName);",
        "// @ts-expect-error: projectName is a string",
        "const wrong: number = data!.items[0]!.projectName;",
        "console.log(status, op, adminPath, names, wrong, HtcApiError, createAdminClient, createHtcClientFromEnvironment, {} as ProjectsPath);",
        "await emulator.stop();",
        "",
      ].join("\n"),
    );
    const result = await project.run("npx", ["tsc", "-p", "tsconfig.json"]);
    expect(result.code, show(result)).toBe(0);
  });
});

describe("the installed packages", () => {
  it("pass publint (exports, files, types, bins)", async () => {
    const problems: string[] = [];
    for (const { name } of published) {
      const pkgDir = join(project.dir, "node_modules", name);
      const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
      const { messages } = await publint({ pkgDir, pack: false, strict: true });
      for (const message of messages) problems.push(`${name}: ${message.type}: ${formatMessage(message, manifest) ?? message.code}`);
    }
    expect(problems).toEqual([]);
  });

  it("hold no TypeScript sources they need at run time and no workspace links", () => {
    for (const { name } of published) {
      const manifest = JSON.parse(readFileSync(join(project.dir, "node_modules", name, "package.json"), "utf8"));
      expect(JSON.stringify(manifest.dependencies ?? {}), name).not.toContain("workspace:");
      expect(manifest.version, name).toBe(version);
      for (const target of Object.values<string>(manifest.bin ?? {})) expect(target, name).toMatch(/\.c?js$/);
      const runtimeTargets = JSON.stringify(manifest.exports ?? {}).match(/"(?:import|default|require)":"([^"]+)"/g) ?? [];
      for (const target of runtimeTargets) expect(target, name).not.toMatch(/\.ts"$/);
    }
  });

  it("carry their licence and a README", () => {
    for (const { name } of published) {
      const files = readdirSync(join(project.dir, "node_modules", name));
      expect(files, name).toContain("LICENSE");
      expect(files, name).toContain("README.md");
    }
  });

  it("npx htcctl --version", async () => {
    const result = await project.shell("npx htcctl --version");
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toContain(version);
  });
});
