// Request and response views of the contract's schemas. OpenAPI's readOnly/writeOnly change what `required`
// means depending on the direction of the message, which plain JSON Schema (and so ajv) does not know. Rather
// than teaching ajv, we derive two copies of the document: in the request view, readOnly properties are
// neither required nor validated; in the response view, writeOnly properties are not required.
// A third, stricter copy serves the emulator's own guarantee: in the complete-response view every declared
// member of a response object is required (`null` when it has no value), except the members marked
// `x-htc-absent-when-unset` (the `next` link of a page).

export type SchemaView = "request" | "response" | "complete-response";

/** The vendor extension of members that are left out, not sent as `null`, when they have no value. */
export const ABSENT_WHEN_UNSET = "x-htc-absent-when-unset";

type JsonObject = Record<string, unknown>;

/** Keywords whose value is a single subschema. */
const SUBSCHEMA = [
  "additionalProperties",
  "unevaluatedProperties",
  "propertyNames",
  "items",
  "contains",
  "unevaluatedItems",
  "not",
  "if",
  "then",
  "else",
] as const;
/** Keywords whose value is a list of subschemas. */
const SUBSCHEMA_LIST = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;
/** Keywords whose value maps names to subschemas. */
const SUBSCHEMA_MAP = ["properties", "patternProperties", "dependentSchemas", "$defs", "definitions"] as const;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Escapes one JSON pointer segment (`application/json` → `application~1json`). */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Resolves a local `#/a/b` reference against the document (JSON pointer, `~0`/`~1` and %-escapes undone). */
export function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let node: unknown = document;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as JsonObject)[key];
  }
  return node;
}

/**
 * A copy of the whole OpenAPI document where every schema (under a `schema` key or in
 * `components.schemas`) is rewritten for the given view. Local `$ref`s are kept as they are, so the copy can
 * be registered in ajv under its own `$id` and referenced by JSON pointer.
 */
export function deriveView(document: JsonObject, view: SchemaView): JsonObject {
  const flag = view === "request" ? "readOnly" : "writeOnly";
  const complete = view === "complete-response";
  const transformSchema = (schema: unknown): unknown => {
    if (!isObject(schema)) return schema;
    const out: JsonObject = { ...schema };
    for (const key of SUBSCHEMA) if (key in out) out[key] = transformSchema(out[key]);
    for (const key of SUBSCHEMA_LIST) {
      const list = out[key];
      if (Array.isArray(list)) out[key] = list.map(transformSchema);
    }
    for (const key of SUBSCHEMA_MAP) {
      const map = out[key];
      if (isObject(map)) out[key] = mapValues(map, transformSchema);
    }
    const properties = out["properties"];
    if (isObject(properties) && complete) {
      const declared = Object.keys(properties).filter(
        (name) =>
          !hasFlag(document, properties[name], flag, new Set()) && !hasFlag(document, properties[name], ABSENT_WHEN_UNSET, new Set()),
      );
      if (declared.length > 0) out["required"] = declared;
      else delete out["required"];
    } else if (isObject(properties)) {
      const flagged = Object.keys(properties).filter((name) => hasFlag(document, properties[name], flag, new Set()));
      if (flagged.length > 0) {
        if (Array.isArray(out["required"])) {
          const required = out["required"].filter((name) => !flagged.includes(name as string));
          if (required.length > 0) out["required"] = required;
          else delete out["required"];
        }
        // A readOnly member sent in a request is ignored by the server, so any value is acceptable.
        if (view === "request") {
          out["properties"] = mapValues(properties, (value, name) => (flagged.includes(name) ? true : value));
        }
      }
    }
    return out;
  };
  const walk = (node: unknown, path: string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, path));
    if (!isObject(node)) return node;
    const inSchemas = path.length === 2 && path[0] === "components" && path[1] === "schemas";
    return mapValues(node, (value, key) => {
      if (inSchemas || key === "schema") return transformSchema(value);
      if (key === "example" || key === "examples") return value;
      return walk(value, [...path, key]);
    });
  };
  return walk(document, []) as JsonObject;
}

/** Whether a schema carries a flag (readOnly, writeOnly, …) itself, through a local `$ref`, or in an `allOf` member. */
function hasFlag(document: unknown, schema: unknown, flag: string, seen: Set<string>): boolean {
  if (!isObject(schema)) return false;
  if (schema[flag] === true) return true;
  const ref = schema["$ref"];
  if (typeof ref === "string" && !seen.has(ref)) {
    seen.add(ref);
    if (hasFlag(document, resolvePointer(document, ref), flag, seen)) return true;
  }
  const allOf = schema["allOf"];
  return Array.isArray(allOf) && allOf.some((member) => hasFlag(document, member, flag, seen));
}

function mapValues(object: JsonObject, fn: (value: unknown, key: string) => unknown): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) out[key] = fn(value, key);
  return out;
}
