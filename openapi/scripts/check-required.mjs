// Checks that the contract promises no more than production does: every `required` list of the bundled contract
// names only members that upstream's description (rescale-labs/htc-cli v2/api/swagger.json) requires, or that a
// standard the schema follows requires. Everything else the emulator sends is its own guarantee, checked at run
// time by the contract's `allDeclaredPresent` option, not a promise of the generated client types.
// Also checks that `x-htc-absent-when-unset` (members left out instead of sent as null) marks only page links.
import { readFileSync } from "node:fs";

const contract = JSON.parse(readFileSync(new URL("../dist/openapi.json", import.meta.url), "utf8"));

/** The `required` lists of upstream's component schemas (every other upstream schema requires nothing). */
const upstream = {
  EnvPair: ["name", "value"],
  HTCJobDefinition: ["imageName"],
  HTCJobSubmitRequest: ["htcJobDefinition"],
  HTCLimitCreate: ["vCPUs", "modifierRole"],
  HTCLimitUpdate: ["vCPUs"],
  HTCProject: ["projectName", "projectDescription"],
  HTCProjectLimit: ["vCPUs"],
  HTCRegionSettings: ["computeSettings", "storageSettings"],
  HTCTask: ["taskName", "taskDescription"],
  HTCTaskUpdate: ["lifecycleStatus"],
  HTCWorkspaceLimit: ["vCPUs"],
  NameValuePair: ["name", "value"],
  TaskRetentionPolicy: ["deleteAfter", "archiveAfter"],
  WorkspaceTaskRetentionPolicy: ["deleteAfter", "archiveAfter"],
};

/** Schemas of this contract without an upstream namesake, and what they may require (with the reason). */
const own = {
  HTCProjectCreate: { members: upstream.HTCProject, why: "the writable part of upstream's HTCProject" },
  JsonWebKeySet: { members: ["keys"], why: "RFC 7517 section 5" },
  JsonWebKey: { members: ["kty", "n", "e"], why: "RFC 7517 section 4.1, RFC 7518 section 6.3.1" },
  OAuth2Token: { members: ["access_token", "token_type"], why: "RFC 6749 section 5.1" },
  "POST /oauth2/token request body": { members: ["grant_type"], why: "RFC 6749 section 4.4.2" },
};

const problems = [];
const absentWhenUnset = [];

function visit(schema, name, pointer) {
  if (!schema || typeof schema !== "object") return;
  if (Array.isArray(schema)) {
    schema.forEach((item, i) => visit(item, name, `${pointer}/${i}`));
    return;
  }
  if (Array.isArray(schema.required) && schema.properties) {
    const allowed = upstream[name] ?? own[name]?.members ?? [];
    for (const member of schema.required) {
      if (!allowed.includes(member)) problems.push(`${pointer}: '${member}' is required, but upstream does not require it of ${name}`);
    }
  }
  for (const [member, property] of Object.entries(schema.properties ?? {})) {
    if (property?.["x-htc-absent-when-unset"] === true)
      absentWhenUnset.push({ pointer: `${pointer}/properties/${member}`, member, property });
  }
  for (const [key, value] of Object.entries(schema)) {
    if (key === "example" || key === "examples") continue;
    // A nested inline object keeps the name of the schema it belongs to.
    if (typeof value === "object") visit(value, name, `${pointer}/${key}`);
  }
}

for (const [name, schema] of Object.entries(contract.components.schemas)) visit(schema, name, `#/components/schemas/${name}`);
for (const [path, item] of Object.entries(contract.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    if (typeof operation !== "object" || !operation.responses) continue;
    const where = `${method.toUpperCase()} ${path}`;
    for (const media of Object.values(operation.requestBody?.content ?? {})) {
      visit(media.schema, `${where} request body`, `#/paths/${path}/${method}/requestBody`);
    }
    for (const [status, response] of Object.entries(operation.responses)) {
      for (const media of Object.values(response.content ?? {}))
        visit(media.schema, `${where} ${status}`, `#/paths/${path}/${method}/responses/${status}`);
    }
  }
}

for (const { pointer, member, property } of absentWhenUnset) {
  if (member !== "next") problems.push(`${pointer}: only the 'next' link of a page may be left out instead of sent as null`);
  const types = Array.isArray(property.type) ? property.type : [property.type];
  if (types.includes("null")) problems.push(`${pointer}: a member left out when unset must not also admit null`);
}
// Every page (an object with `items` and `next`) leaves `next` out on its last page.
for (const [name, schema] of Object.entries(contract.components.schemas)) {
  const next = schema.properties?.next;
  if (schema.properties?.items && next && next["x-htc-absent-when-unset"] !== true) {
    problems.push(`#/components/schemas/${name}/properties/next: a page link must carry x-htc-absent-when-unset`);
  }
}

if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(
  `contract required lists: only what upstream (or a standard) requires; ${absentWhenUnset.length} page links left out when unset`,
);
