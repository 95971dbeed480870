// `pnpm version:set <version>`: moves every published package, and the version constants the programs print, to
// one new version (the root package.json records it). Add the release's section to CHANGELOG.md yourself.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { publishedPackages, root, VERSION_CONSTANTS } from "./packages.mjs";

const next = process.argv[2];
if (!next || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(next)) {
  console.error("usage: pnpm version:set <major.minor.patch[-pre]>");
  process.exit(2);
}
const manifests = [join(root, "package.json"), ...publishedPackages().map((p) => join(p.dir, "package.json"))];
for (const file of manifests) {
  const text = readFileSync(file, "utf8");
  writeFileSync(file, text.replace(/^( {2}"version": )"[^"]+"/m, `$1"${next}"`));
}
for (const [file, pattern] of VERSION_CONSTANTS) {
  const path = join(root, file);
  const text = readFileSync(path, "utf8");
  const found = pattern.exec(text);
  if (!found) throw new Error(`${file}: no version constant matching ${pattern}`);
  writeFileSync(path, text.replace(found[0], found[0].replace(found[1], next)));
}
console.log(`version ${next}: ${manifests.length} package.json files and ${VERSION_CONSTANTS.length} constants`);
