// Versions move in lockstep: every published package has the root's version (package.json "version"), the
// version constants the programs print agree with it, and packages depend on each other through `workspace:*`
// (which `pnpm pack` turns into that same version). Run by `pnpm lint` and `pnpm release:check`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { publishedPackages, root, VERSION_CONSTANTS } from "./packages.mjs";

const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
const constants = VERSION_CONSTANTS;

const problems = [];
if (!version) problems.push("the root package.json has no version");
const published = publishedPackages();
const names = new Set(published.map((p) => p.name));
for (const { name, manifest } of published) {
  if (manifest.version !== version) problems.push(`${name} is at ${manifest.version}, the workspace at ${version}`);
  for (const field of ["dependencies", "devDependencies", "peerDependencies"]) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (names.has(dep) && range !== "workspace:*") problems.push(`${name} ${field}.${dep} is "${range}", not "workspace:*"`);
    }
  }
  for (const field of ["license", "repository", "engines", "files"]) if (!manifest[field]) problems.push(`${name} has no "${field}"`);
}
for (const [file, pattern] of constants) {
  const text = readFileSync(join(root, file), "utf8");
  const found = pattern.exec(text)?.[1];
  if (found === undefined) problems.push(`${file}: no version constant matching ${pattern}`);
  else if (found !== version) problems.push(`${file} says ${found}, the workspace is at ${version}`);
}
if (problems.length) {
  console.error(`versions are not in lockstep:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`versions: ${published.length} published packages and ${constants.length} constants at ${version}`);
