// Checks that the bundled contract holds exactly the 57 operations of the HTC API (surface.json), each with
// the operationId we chose, and nothing else.
import { readFileSync } from "node:fs";

const surface = JSON.parse(readFileSync(new URL("../surface.json", import.meta.url), "utf8"));
const contract = JSON.parse(readFileSync(new URL("../dist/openapi.json", import.meta.url), "utf8"));
const methods = ["get", "put", "post", "delete", "patch"];
const found = new Map();
for (const [path, item] of Object.entries(contract.paths)) {
  for (const m of methods) if (item[m]) found.set(`${m.toUpperCase()} ${path}`, item[m].operationId);
}
const problems = [];
for (const op of surface) {
  const key = `${op.method} ${op.path}`;
  if (!found.has(key)) problems.push(`missing: ${key}`);
  else if (found.get(key) !== op.operationId) problems.push(`${key}: operationId ${found.get(key)} != ${op.operationId}`);
  found.delete(key);
}
for (const key of found.keys()) problems.push(`not in the HTC surface: ${key}`);
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`contract surface: ${surface.length}/${surface.length} operations, operationIds as chosen`);
