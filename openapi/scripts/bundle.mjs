// Merges the fragments of src/ (in file-name order) into one OpenAPI document, dist/openapi.json.
// Each fragment may hold `paths` and `components`; the root fragment also holds the document metadata.
// A name defined twice is an error: every schema, parameter and path has one home.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function bundle(srcDir) {
  const files = readdirSync(srcDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  let doc;
  for (const file of files) {
    const fragment = parse(readFileSync(join(srcDir, file), "utf8")) ?? {};
    if (!doc) {
      doc = { ...fragment, paths: { ...(fragment.paths ?? {}) }, components: { ...(fragment.components ?? {}) } };
      continue;
    }
    for (const [key, value] of Object.entries(fragment)) {
      if (key === "paths") mergeInto(doc.paths, value, `${file}: paths`);
      else if (key === "components") {
        for (const [kind, entries] of Object.entries(value)) {
          doc.components[kind] ??= {};
          mergeInto(doc.components[kind], entries, `${file}: components.${kind}`);
        }
      } else throw new Error(`${file}: only the first fragment may set '${key}'`);
    }
  }
  return doc;
}

function mergeInto(target, source, where) {
  for (const [name, value] of Object.entries(source ?? {})) {
    if (name in target) throw new Error(`${where}: '${name}' is already defined by an earlier fragment`);
    target[name] = value;
  }
}

function sortPaths(doc) {
  const sorted = {};
  for (const p of Object.keys(doc.paths).sort()) sorted[p] = doc.paths[p];
  doc.paths = sorted;
  return doc;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(join(root, "dist"), { recursive: true });
  const contract = sortPaths(bundle(join(root, "src")));
  writeFileSync(join(root, "dist/openapi.json"), `${JSON.stringify(contract, null, 2)}\n`);
  const ops = Object.values(contract.paths).flatMap((item) =>
    Object.keys(item).filter((k) => ["get", "put", "post", "delete", "patch", "head", "options"].includes(k)),
  );
  console.log(`bundled ${Object.keys(contract.paths).length} paths, ${ops.length} operations -> dist/openapi.json`);
  // The emulator's admin API is a separate, single-file document.
  const admin = parse(readFileSync(join(root, "admin/admin.yaml"), "utf8"));
  writeFileSync(join(root, "dist/admin.json"), `${JSON.stringify(admin, null, 2)}\n`);
  console.log(`admin API: ${Object.keys(admin.paths).length} paths -> dist/admin.json`);
}
