// The published packages of the workspace (every package.json without `"private": true`), and packing them.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));

/** Every workspace package, with its folder and manifest. */
export function workspacePackages() {
  const listed = JSON.parse(execFileSync("pnpm", ["ls", "-r", "--json", "--depth", "-1"], { cwd: root, encoding: "utf8" }));
  return listed
    .filter((p) => p.path !== root.replace(/\/$/, ""))
    .map((p) => ({ name: p.name, dir: p.path, manifest: JSON.parse(readFileSync(join(p.path, "package.json"), "utf8")) }));
}

export function publishedPackages() {
  return workspacePackages().filter((p) => !p.manifest.private);
}

/**
 * `pnpm pack` of every published package into `destination` (pnpm turns `workspace:*` into the version and checks
 * `files`); the tarballs' paths by package name. Packs what is built: run `pnpm build` first.
 */
export function packAll(destination) {
  const tarballs = new Map();
  for (const pkg of publishedPackages()) {
    const out = execFileSync("pnpm", ["pack", "--json", "--pack-destination", destination], { cwd: pkg.dir, encoding: "utf8" });
    tarballs.set(pkg.name, JSON.parse(out).filename);
  }
  return tarballs;
}

/** The version strings compiled into the programs (printed by --version, sent in User-Agent headers). */
export const VERSION_CONSTANTS = [
  ["packages/client/src/client.ts", /CLIENT_VERSION = "([^"]+)"/],
  ["apps/cli/src/context.ts", /CLI_VERSION = "([^"]+)"/],
  ["apps/emulator/src/version.ts", /EMULATOR_VERSION = "([^"]+)"/],
  ["apps/htcctl/src/main.ts", /VERSION = "([^"]+)"/],
  ["apps/htcctl/src/api.ts", /USER_AGENT = "htcctl\/([^ "]+) /],
  ["packages/testcontainers/src/version.ts", /TESTCONTAINERS_VERSION = "([^"]+)"/],
];
