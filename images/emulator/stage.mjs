// The application part of htcemu/emulator, staged from the published packages as a user would get them:
//
//   node images/emulator/stage.mjs inputs        one line per input (path and sha256): what images/build.sh hashes
//   node images/emulator/stage.mjs stage <dir>   build, pack and install into <dir>/node_modules
//
// The packages are @htcemu/emulator and the workspace packages it depends on, found through their manifests (so a
// new dependency, e.g. the dashboard, comes along by itself). `stage` builds them (turbo: cached when unchanged),
// packs them with `pnpm pack` (as `pnpm release:check` does), installs the tarballs with npm, production
// dependencies only, and removes what nothing loads at run time (source maps, declarations, TypeScript sources,
// the SQLite addon's sources and intermediate files). No install script runs: better-sqlite3's addon is the one
// the workspace compiled for this machine's node (the binary the image carries), copied when the versions agree,
// else compiled here with `npm rebuild`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const ROOT_PACKAGE = "@htcemu/emulator";
/** Files of the repository (besides the packages' own) that change what is built or installed. */
const ROOT_INPUTS = [
  "package.json",
  "pnpm-lock.yaml",
  "pnpm-workspace.yaml",
  "tsconfig.base.json",
  "turbo.json",
  "scripts/build",
  "images/emulator/stage.mjs",
  "images/emulator/overlay",
];
/** Folders of a package that never reach its tarball. */
const NOT_PACKED = /^(test|tests|bench|dev|node_modules|build|dist-test)\//;

const say = (line) => process.stderr.write(`images: ${line}\n`);

/**
 * The workspace's packages, from pnpm-workspace.yaml's globs (`dir` or `dir/*`): read directly, since asking pnpm
 * costs a second on every (usually skipped) build.
 */
function workspacePackages() {
  const yaml = readFileSync(join(repo, "pnpm-workspace.yaml"), "utf8");
  const block = /^packages:\n((?:[ \t]+-.*\n?)+)/m.exec(yaml)?.[1] ?? "";
  const globs = [...block.matchAll(/^\s+-\s+["']?([^"'\s#]+)["']?/gm)].map((m) => m[1]);
  const dirs = globs.flatMap((glob) => {
    if (!glob.endsWith("/*")) return [join(repo, glob)];
    const parent = join(repo, glob.slice(0, -2));
    return existsSync(parent) ? readdirSync(parent).map((entry) => join(parent, entry)) : [];
  });
  return dirs
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .map((p) => ({ ...p, name: p.manifest.name }));
}

/** The emulator and every workspace package it depends on (production dependencies, transitively). */
function closure() {
  const all = new Map(workspacePackages().map((p) => [p.name, p]));
  const chosen = new Map();
  const visit = (name) => {
    const pkg = all.get(name);
    if (!pkg || chosen.has(name)) return;
    if (pkg.manifest.private)
      throw new Error(`${name} is private, yet ${ROOT_PACKAGE} depends on it: it cannot be installed from a tarball`);
    chosen.set(name, pkg);
    for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) visit(dep);
  };
  visit(ROOT_PACKAGE);
  if (!chosen.size) throw new Error(`no workspace package ${ROOT_PACKAGE}`);
  return [...chosen.values()];
}

function gitFiles(paths) {
  const out = execFileSync("git", ["ls-files", "-z", "-co", "--exclude-standard", "--", ...paths], { cwd: repo, encoding: "utf8" });
  return out.split("\0").filter((f) => f && existsSync(join(repo, f)) && statSync(join(repo, f)).isFile());
}

function inputs() {
  const packages = closure();
  const files = [
    ...gitFiles(ROOT_INPUTS),
    ...packages.flatMap((p) => {
      const dir = relative(repo, p.dir);
      return gitFiles([dir]).filter((f) => !NOT_PACKED.test(relative(dir, f)));
    }),
  ].sort();
  const lines = files.map(
    (f) =>
      `${f} ${createHash("sha256")
        .update(readFileSync(join(repo, f)))
        .digest("hex")}`,
  );
  return [`packages ${packages.map((p) => p.name).join(" ")}`, ...lines].join("\n");
}

function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`${command} ${args.join(" ")} failed:\n${output}`);
  }
}

function stage(dest) {
  const packages = closure();
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  // Under turbo (the root's build:image task) the builds are tasks it depends on: a turbo run nested in another
  // would replay their outputs while other tasks read them.
  if (process.env.HTCEMU_PACKAGES_BUILT === "1") {
    // Libraries and commands build into build/, the dashboard (Vite) into dist/.
    const built = (p) => ["build", "dist"].some((out) => existsSync(join(p.dir, out)));
    const missing = packages.filter((p) => p.manifest.scripts?.build && !built(p));
    if (missing.length) throw new Error(`--packages-built, yet ${missing.map((p) => p.name).join(", ")} have no build/ (or dist/)`);
  } else {
    run("pnpm", ["turbo", "run", "build", "--output-logs=errors-only", `--filter=${ROOT_PACKAGE}...`], {
      cwd: repo,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    });
    say(`built ${packages.map((p) => p.name).join(", ")} (${elapsed()})`);
  }

  const tarballs = mkdtempSync(join(tmpdir(), "htcemu-emulator-tarballs-"));
  try {
    const files = packages.map((p) => JSON.parse(run("pnpm", ["pack", "--json", "--pack-destination", tarballs], { cwd: p.dir })).filename);
    mkdirSync(dest, { recursive: true });
    writeFileSync(
      join(dest, "package.json"),
      `${JSON.stringify({ name: "htcemu-emulator-image", private: true, type: "module" }, null, 2)}\n`,
    );
    run(
      "npm",
      [
        "install",
        "--omit=dev",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--prefer-offline",
        "--loglevel=error",
        ...files,
      ],
      {
        cwd: dest,
      },
    );
    say(`installed ${files.length} tarballs and their production dependencies with npm (${elapsed()})`);
  } finally {
    rmSync(tarballs, { recursive: true, force: true });
  }
  rmSync(join(dest, "package-lock.json"), { force: true });

  installSqliteAddon(dest);
  const removed = prune(join(dest, "node_modules"));
  say(`pruned ${(removed / 1e6).toFixed(1)} MB nothing loads; staged ${(sizeOf(dest) / 1e6).toFixed(1)} MB (${elapsed()})`);
}

/** better-sqlite3's addon: the workspace's build for this node when the versions agree, else compiled now. */
function installSqliteAddon(dest) {
  const staged = join(dest, "node_modules", "better-sqlite3");
  const version = JSON.parse(readFileSync(join(staged, "package.json"), "utf8")).version;
  const emulatorDir = closure()[0].dir;
  const workspaceManifest = run(process.execPath, ["-p", "require.resolve('better-sqlite3/package.json')"], { cwd: emulatorDir }).trim();
  const workspaceAddon = join(dirname(workspaceManifest), "build", "Release", "better_sqlite3.node");
  const workspaceVersion = JSON.parse(readFileSync(workspaceManifest, "utf8")).version;
  const target = join(staged, "build", "Release", "better_sqlite3.node");
  if (workspaceVersion === version && existsSync(workspaceAddon)) {
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(workspaceAddon, target);
  } else {
    say(`compiling better-sqlite3 ${version} for node ${process.version} (the workspace has ${workspaceVersion})`);
    run("npm", ["rebuild", "better-sqlite3", "--loglevel=error"], {
      cwd: dest,
      env: { ...process.env, ...(existsSync("/usr/include/node/node.h") ? { npm_config_nodedir: "/usr" } : {}) },
    });
  }
  // It must load here, with the node the image carries.
  run(process.execPath, ["-e", "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], { cwd: dest });
}

/** Removes what nothing loads at run time; returns the bytes freed. */
function prune(modules) {
  let freed = 0;
  const remove = (path) => {
    freed += sizeOf(path);
    rmSync(path, { recursive: true, force: true });
  };
  // The SQLite addon: only the compiled module and the JavaScript that loads it.
  const sqlite = join(modules, "better-sqlite3");
  for (const entry of ["deps", "src", "binding.gyp"]) remove(join(sqlite, entry));
  for (const entry of readdirSync(join(sqlite, "build"))) if (entry !== "Release") remove(join(sqlite, "build", entry));
  for (const entry of readdirSync(join(sqlite, "build", "Release")))
    if (entry !== "better_sqlite3.node") remove(join(sqlite, "build", "Release", entry));
  // Our packages' TypeScript sources (the workspace's "@htcemu/source" condition; Node never uses it).
  const ours = join(modules, "@htcemu");
  for (const name of existsSync(ours) ? readdirSync(ours) : []) remove(join(ours, name, "src"));
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(map|d\.ts|d\.mts|d\.cts|tsbuildinfo)$/.test(entry.name) || (/\.ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")))
        remove(path);
    }
  };
  walk(modules);
  // Type-only packages.
  const types = join(modules, "@types");
  if (existsSync(types)) remove(types);
  return freed;
}

function sizeOf(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

const [mode, dest] = process.argv.slice(2);
try {
  if (mode === "inputs") process.stdout.write(`${inputs()}\n`);
  else if (mode === "stage" && dest) stage(dest);
  else {
    process.stderr.write("usage: node images/emulator/stage.mjs inputs | stage <dir>\n");
    process.exit(2);
  }
} catch (error) {
  process.stderr.write(`images: staging htcemu/emulator failed: ${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
}
