// Bundles a package's command into build/ with esbuild: one ES module (plus chunks for what the command imports
// lazily) holding the package's own code, the workspace packages it uses (from their sources) and its pure-JS
// dependencies, minified, with a source map. A command then starts by reading one file instead of resolving and
// compiling hundreds of modules. What stays outside (`external`) is loaded from node_modules at run time: native
// addons, packages that find files next to themselves, and heavy ones that only some commands load.
//
// The licence texts of the bundled third-party packages go to build/THIRD_PARTY_LICENSES.md.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import * as esbuild from "esbuild";

/**
 * @param {object} options
 * @param {string} options.packageDir  the package's folder
 * @param {string} options.entry       the command's source, relative to packageDir
 * @param {string} options.outdir      where the bundle goes, relative to packageDir (emptied first)
 * @param {string} options.name        the bundle's file name, without `.js`
 * @param {string[]} options.external  packages (and their subpaths) loaded from node_modules at run time
 * @param {Record<string, string>} [options.entries]  more entry points (name → source), e.g. a worker thread's
 *   module, which the command starts by its file name
 */
export async function bundleBin({ packageDir, entry, outdir, name, external, entries = {} }) {
  const out = resolve(packageDir, outdir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: packageDir,
    entryPoints: { [name]: entry, ...entries },
    outdir: out,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20.19",
    // Workspace packages are bundled from their sources, like in development: no build order to respect.
    conditions: ["@htcemu/source"],
    external: external.flatMap((pkg) => [pkg, `${pkg}/*`]),
    minify: true,
    // Errors and classes keep their names (messages and `instanceof`-free checks read them).
    keepNames: true,
    sourcemap: "linked",
    legalComments: "none",
    // CommonJS dependencies inside an ES module still call require() for Node's built-ins.
    banner: { js: 'import { createRequire as __htcemuCreateRequire } from "node:module";\nconst require = __htcemuCreateRequire(import.meta.url);' },
    metafile: true,
    logLevel: "warning",
  });
  writeFileSync(join(out, "THIRD_PARTY_LICENSES.md"), thirdPartyLicenses(result.metafile, packageDir));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  return { files: Object.keys(result.metafile.outputs).length, bytes, metafile: result.metafile };
}

/** The bundled packages from node_modules, each with its licence text (MIT and friends require it to travel along). */
function thirdPartyLicenses(metafile, packageDir) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const path = resolve(packageDir, input);
    const at = path.lastIndexOf(`${sep}node_modules${sep}`);
    if (at < 0) continue;
    const rest = path.slice(at + "/node_modules/".length).split(sep);
    const dir = path.slice(0, at + "/node_modules/".length) + rest.slice(0, rest[0].startsWith("@") ? 2 : 1).join(sep);
    if (!packages.has(dir)) packages.set(dir, JSON.parse(readFileSync(join(dir, "package.json"), "utf8")));
  }
  const sections = [...packages.entries()]
    .sort(([, a], [, b]) => a.name.localeCompare(b.name))
    .map(([dir, manifest]) => {
      const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
      const text = file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${manifest.license ?? "see the package"}`;
      return `## ${manifest.name}@${manifest.version} (${manifest.license ?? "unknown"})\n\n\`\`\`\n${text}\n\`\`\`\n`;
    });
  return [
    "# Third-party software bundled into this package's command",
    "",
    "The command's bundle contains code of these packages, under their licences:",
    "",
    ...sections,
  ].join("\n");
}

/** `node scripts/build.mjs` of a package: report what was written. */
export function report(label, { files, bytes }) {
  console.log(`${label}: ${files} files, ${(bytes / 1024).toFixed(0)} KiB`);
}

