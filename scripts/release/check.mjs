// `pnpm release:check`: everything a release needs short of publishing (nothing is published from here).
//   1. versions in lockstep (check-versions.mjs)
//   2. a fresh build of every package (`pnpm build`, turbo, no cache)
//   3. `pnpm pack` of every published package into .release/ (the files to publish, listed with their sizes)
//   4. the outside-the-workspace test (tests/outside) on exactly those tarballs
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { packAll, root } from "./packages.mjs";

const step = (title) => console.log(`\n== ${title}`);
const run = (command, args, env = {}) => execFileSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });

step("versions");
run("node", ["scripts/release/check-versions.mjs"]);

step("build");
run("pnpm", ["turbo", "run", "build", "--force"]);

step("pack");
const out = join(root, ".release");
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
for (const [name, file] of packAll(out))
  console.log(`  ${name.padEnd(20)} ${basename(file).padEnd(32)} ${(statSync(file).size / 1024).toFixed(0).padStart(6)} KiB`);

step("outside the workspace: npm install of the tarballs, the README's snippets");
run("pnpm", ["--filter", "@htcemu/outside-tests", "test"], { HTC_OUTSIDE_TARBALLS: out });

console.log(
  `\nrelease check passed: the tarballs in ${out} are what \`npm publish\` would upload (run it from each package's folder, or \`pnpm publish -r\`).`,
);
