// An npm project outside the workspace: the published packages, packed, installed from their tarballs with plain
// npm (no workspace links, no pnpm), with the test runners the README names.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { packAll, publishedPackages } from "../../../scripts/release/packages.mjs";

/** What the outside project installs besides our packages, at the versions the workspace uses. */
const TOOLS = ["typescript@5.9.3", "@types/node@20.19.25", "jest@30.5.2", "vitest@4.1.12"];

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class OutsideProject {
  readonly dir: string;
  /** A HOME of its own: `htc` writes its config there, nothing of the user's leaks in. */
  readonly home: string;
  private readonly children = new Set<ChildProcess>();

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "htcemu-outside-"));
    this.home = join(this.dir, ".home");
    mkdirSync(this.home);
  }

  /**
   * Packs the published packages (or takes the tarballs `pnpm release:check` packed, from HTC_OUTSIDE_TARBALLS)
   * and installs them and the tools with npm.
   */
  async install(): Promise<Map<string, string>> {
    const given = process.env["HTC_OUTSIDE_TARBALLS"];
    let tarballs: Map<string, string>;
    if (given) {
      const files = readdirSync(given).filter((f) => f.endsWith(".tgz"));
      tarballs = new Map(
        publishedPackages().map((p) => {
          const file = files.find((f) => f === `${p.name.replace("@", "").replace("/", "-")}-${p.manifest.version}.tgz`);
          if (!file) throw new Error(`no tarball of ${p.name} in ${given}`);
          return [p.name, join(given, file)];
        }),
      );
    } else {
      const packed = join(this.dir, ".tarballs");
      mkdirSync(packed);
      tarballs = packAll(packed);
    }
    writeFileSync(
      join(this.dir, "package.json"),
      `${JSON.stringify({ name: "outside-project", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
    );
    const result = await this.run(
      "npm",
      ["install", "--save-dev", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs.values(), ...TOOLS],
      {
        env: installEnvironment(),
        timeoutMs: 840_000,
      },
    );
    if (result.code !== 0) throw new Error(`npm install failed (${result.code}):\n${result.stderr}\n${result.stdout}`);
    return tarballs;
  }

  write(file: string, text: string): string {
    const path = join(this.dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  /** Runs a program in the project and collects its output; fails the promise only when it cannot start. */
  async run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
    try {
      const { stdout, stderr } = await promisify(execFile)(file, args, {
        cwd: this.dir,
        env: options.env ?? this.env(),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, signal: null, stdout, stderr };
    } catch (error) {
      const e = error as { code?: unknown; signal?: NodeJS.Signals | null; stdout?: string; stderr?: string };
      if (typeof e.code !== "number" && !e.signal) throw error;
      return { code: typeof e.code === "number" ? e.code : null, signal: e.signal ?? null, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }

  /** A shell command line, as a user types it in the project's folder. */
  shell(line: string, env?: NodeJS.ProcessEnv): Promise<Result> {
    return this.run("sh", ["-c", line], { env: env ?? this.env() });
  }

  /** Starts a long-running command; it is killed by close() at the latest. */
  spawn(line: string): ChildProcess & { output: { stdout: string; stderr: string } } {
    const child = spawn("sh", ["-c", `exec ${line}`], { cwd: this.dir, env: this.env(), stdio: ["ignore", "pipe", "pipe"] });
    const output = { stdout: "", stderr: "" };
    child.stdout!.on("data", (chunk: Buffer) => {
      output.stdout += chunk.toString();
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      output.stderr += chunk.toString();
    });
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return Object.assign(child, { output });
  }

  /** The environment of a fresh shell: nothing of pnpm, turbo, vitest or the workspace's HTC_* settings. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env["PATH"],
      HOME: this.home,
      LANG: process.env["LANG"] ?? "C.UTF-8",
      TMPDIR: tmpdir(),
      // npx would print npm's own upgrade notices into the commands' stderr.
      npm_config_update_notifier: "false",
      ...extra,
    };
  }

  async close(): Promise<void> {
    for (const child of this.children) child.kill("SIGKILL");
    if (!process.env["HTC_OUTSIDE_KEEP"]) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * npm's environment for the install: the user's HOME (npm's cache), and — where no prebuilt binary of
 * better-sqlite3 can be downloaded — what compiling it needs: Node's headers (Debian keeps them under /usr) and
 * no optimisation, which makes the compile three times faster for a test that only opens in-memory databases.
 */
function installEnvironment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env["PATH"],
    HOME: process.env["HOME"],
    LANG: process.env["LANG"] ?? "C.UTF-8",
    TMPDIR: tmpdir(),
    ...(existsSync("/usr/include/node/node.h") ? { npm_config_nodedir: "/usr" } : {}),
    CFLAGS: "-O0",
    CXXFLAGS: "-O0",
  };
}
