// The zod schemas that validate requests must say what the contract says: the same operations, the same body
// members with the same types, enums and bounds, the same query parameters. This compares them structurally
// (zod → JSON Schema against the contract's request view, readOnly members left out), for the HTC API and for
// the emulator's admin API.
import { adminContractPath, contractPath, surfacePath } from "@htcemu/openapi";
import { readFileSync } from "node:fs";
import { deriveView, HTTP_METHODS } from "@htcemu/contract";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { adminOperations, htcOperations } from "../src/app.js";
import type { RegisteredOperation } from "../src/http/router.js";

type Schema = Record<string, unknown>;

const surface = JSON.parse(readFileSync(surfacePath, "utf8")) as { method: string; path: string; operationId: string }[];
const adminDocument = JSON.parse(readFileSync(adminContractPath, "utf8")) as Schema;

/** Every operation of a document, as `METHOD path operationId`. */
function operationsOf(document: Schema): { method: string; path: string; operationId: string }[] {
  return Object.entries(document.paths as Record<string, Schema>).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((m) => ({
      method: m.toUpperCase(),
      path,
      operationId: (item[m] as Schema).operationId as string,
    })),
  );
}

// The functions below read the request view of the document being checked.
let requestView: Schema = {};

/** Follows $refs and single-member allOf wrappers (used to put a description next to a $ref). */
function resolve(schema: Schema | undefined): Schema | undefined {
  let current = schema;
  for (let i = 0; current && i < 20; i++) {
    if (typeof current.$ref === "string") {
      const path = (current.$ref as string).replace(/^#\//, "").split("/");
      current = path.reduce<Schema>((node, key) => node[key] as Schema, requestView);
    } else if (Array.isArray(current.allOf) && current.allOf.length === 1) {
      current = { ...(current.allOf[0] as Schema), ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== "allOf")) };
    } else break;
  }
  return current;
}

function typesOf(schema: Schema): string[] {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).flatMap((s) => typesOf(resolve(s)!));
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (typeof schema.type === "string") return [schema.type];
  if (Array.isArray(schema.enum)) return [...new Set((schema.enum as unknown[]).map((v) => (v === null ? "null" : typeof v)))];
  return [];
}

/** A schema without its `null` alternative (`anyOf: [X, {type: "null"}]`), for comparing the non-null part. */
function nonNull(schema: Schema): Schema {
  if (Array.isArray(schema.anyOf)) {
    const rest = (schema.anyOf as Schema[]).filter((s) => s.type !== "null");
    if (rest.length === 1) return { ...rest[0]!, ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "anyOf")) };
  }
  return schema;
}

const bounds = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "pattern"];

function compare(ours: Schema, theirs: Schema, at: string, problems: string[]): void {
  const whole = resolve(theirs)!;
  // Types are compared with their `null` alternative; enums, bounds and members on the non-null part.
  const spec = resolve(nonNull(whole)) ?? whole;
  const mine = nonNull(ours);
  const specTypes = typesOf(whole)
    .map((t) => (t === "integer" ? "number" : t))
    .sort();
  const myTypes = typesOf(ours)
    .map((t) => (t === "integer" ? "number" : t))
    .sort();
  if (specTypes.length && JSON.stringify([...new Set(specTypes)]) !== JSON.stringify([...new Set(myTypes)])) {
    problems.push(`${at}: types ${myTypes} vs contract ${specTypes}`);
  }
  if (spec.type === "integer" || (Array.isArray(spec.type) && spec.type.includes("integer"))) {
    if (mine.type !== "integer") problems.push(`${at}: contract says integer`);
  }
  if (Array.isArray(spec.enum)) {
    const want = (spec.enum as unknown[])
      .filter((v) => v !== null)
      .map(String)
      .sort();
    const have = ((mine.enum as unknown[]) ?? []).map(String).sort();
    if (JSON.stringify(want) !== JSON.stringify(have)) problems.push(`${at}: enum ${have} vs contract ${want}`);
  }
  for (const key of bounds) {
    const specValue = spec[key];
    const myValue = mine[key];
    if (specValue === undefined) continue;
    // RegExp sources escape "/", contract patterns need not: compare them as regular expressions.
    const same =
      key === "pattern" && typeof myValue === "string"
        ? new RegExp(String(specValue)).source === new RegExp(myValue).source
        : String(specValue) === String(myValue);
    if (!same) problems.push(`${at}: ${key} ${myValue} vs contract ${specValue}`);
  }
  if (spec.type === "array" || mine.type === "array") {
    if (spec.items && mine.items) compare(mine.items as Schema, spec.items as Schema, `${at}[]`, problems);
  }
  const specProps = (spec.properties ?? {}) as Record<string, Schema>;
  if (Object.keys(specProps).length) {
    const myProps = (mine.properties ?? {}) as Record<string, Schema>;
    const specRequired = new Set((spec.required as string[]) ?? []);
    const myRequired = new Set((mine.required as string[]) ?? []);
    for (const [name, prop] of Object.entries(specProps)) {
      // The request view turns readOnly members into `true` (anything goes, and it is ignored).
      if ((prop as unknown) === true || resolve(prop)?.readOnly) continue;
      if (!(name in myProps)) {
        problems.push(`${at}.${name}: missing from the zod schema`);
        continue;
      }
      const defaulted = (myProps[name] as Schema).default !== undefined;
      if (specRequired.has(name) !== (myRequired.has(name) && !defaulted)) {
        problems.push(`${at}.${name}: required ${myRequired.has(name)} vs contract ${specRequired.has(name)}`);
      }
      compare(myProps[name]!, prop, `${at}.${name}`, problems);
    }
    for (const name of Object.keys(myProps)) if (!(name in specProps)) problems.push(`${at}.${name}: not in the contract`);
  }
  if (spec.additionalProperties && typeof spec.additionalProperties === "object" && mine.additionalProperties) {
    compare(mine.additionalProperties as Schema, spec.additionalProperties as Schema, `${at}{}`, problems);
  }
}

function specOperation(operationId: string): Schema {
  for (const item of Object.values(requestView.paths as Record<string, Schema>)) {
    for (const op of Object.values(item)) if ((op as Schema).operationId === operationId) return op as Schema;
  }
  throw new Error(`no operation ${operationId}`);
}

/** Bodies the emulator reads differently from the contract on purpose, with the reason. */
const bodyExceptions: Record<string, string> = {
  createOAuth2Token: "a form body, parsed by hand (OAuth2 rules)",
  cancelJobs: "any JSON object is accepted and ignored",
  createRepo: "any JSON object is accepted and ignored",
};

const apis = [
  { name: "the HTC contract", path: contractPath, operations: htcOperations().operations, expected: surface },
  { name: "the admin API", path: adminContractPath, operations: adminOperations().operations, expected: operationsOf(adminDocument) },
];

describe("the emulator serves exactly the operations of its two APIs", () => {
  for (const api of apis) {
    it(`registers every operation of ${api.name} (${api.expected.length}), with its method and path`, () => {
      const served = api.operations.map((o) => `${o.method} ${o.path} ${o.operationId}`).sort();
      const expected = api.expected.map((o) => `${o.method} ${o.path} ${o.operationId}`).sort();
      expect(served).toEqual(expected);
    });
  }

  it("uses every operationId once across both APIs (strict checks, faults and metrics key on it)", () => {
    const ids = apis.flatMap((api) => api.operations.map((o) => o.operationId));
    expect(ids.length).toBe(new Set(ids).size);
  });
});

for (const api of apis) {
  describe(`request schemas match ${api.name}`, () => {
    const document = JSON.parse(readFileSync(api.path, "utf8")) as Schema;
    const view = deriveView(document as never, "request") as Schema;
    for (const op of api.operations) {
      it(`${op.operationId}`, () => {
        requestView = view;
        checkOperation(op);
      });
    }
  });
}

function checkOperation(op: RegisteredOperation): void {
  const spec = specOperation(op.operationId);
  const problems: string[] = [];
  const content = (spec.requestBody as Schema | undefined)?.content as Record<string, Schema> | undefined;
  const specBody = content?.["application/json"]?.schema as Schema | undefined;
  if (bodyExceptions[op.operationId]) {
    // documented exception
  } else if (specBody && !op.body) problems.push("the contract declares a JSON body the emulator does not read");
  else if (!specBody && op.body) problems.push("the emulator reads a body the contract does not declare");
  else if (specBody && op.body)
    compare(z.toJSONSchema(op.body, { io: "input", unrepresentable: "any" }) as Schema, specBody, "body", problems);

  const specQuery = ((spec.parameters as Schema[] | undefined) ?? []).map((p) => resolve(p)!).filter((p) => p.in === "query");
  const myQuery = op.query
    ? ((z.toJSONSchema(op.query, { io: "input", unrepresentable: "any" }) as Schema).properties as Record<string, Schema>)
    : {};
  for (const param of specQuery) {
    const name = param.name as string;
    if (!(name in myQuery)) {
      problems.push(`query ${name}: not read by the emulator`);
      continue;
    }
    const schema = resolve(param.schema as Schema)!;
    const isArray = schema.type === "array";
    if (isArray !== (op.arrayQuery ?? []).includes(name)) problems.push(`query ${name}: array ${isArray} in the contract`);
    const target = isArray ? resolve(schema.items as Schema)! : schema;
    const mine = isArray ? ((myQuery[name]!.items as Schema) ?? {}) : myQuery[name]!;
    if (Array.isArray(target.enum)) {
      const want = (target.enum as unknown[]).map(String).sort();
      const have = ((nonNull(mine).enum as unknown[]) ?? []).map(String).sort();
      if (JSON.stringify(want) !== JSON.stringify(have)) problems.push(`query ${name}: enum ${have} vs contract ${want}`);
    }
    // Bounds must agree too, not only names and enums. Query values arrive as text, so numbers are checked by
    // what the emulator accepts at and just past each bound; patterns are compared as regular expressions.
    const field = (op.query as unknown as { shape: Record<string, z.ZodType> }).shape[name]!;
    const accepts = (value: string) => field.safeParse(isArray ? [value] : value).success;
    if (target.type === "integer" || target.type === "number") {
      for (const [key, outside] of [
        ["minimum", -1],
        ["maximum", 1],
      ] as const) {
        const bound = target[key] as number | undefined;
        if (bound === undefined) continue;
        if (!accepts(String(bound)) || accepts(String(bound + outside)))
          problems.push(`query ${name}: ${key} ${bound} of the contract not enforced`);
      }
      if (target.type === "integer" && accepts("1.5")) problems.push(`query ${name}: the contract says integer, 1.5 is accepted`);
    }
    if (typeof target.pattern === "string") {
      const mine = nonNull(isArray ? ((myQuery[name]!.items as Schema) ?? {}) : myQuery[name]!).pattern;
      if (typeof mine !== "string" || new RegExp(target.pattern).source !== new RegExp(mine).source)
        problems.push(`query ${name}: pattern ${mine} vs contract ${target.pattern}`);
    }
  }
  for (const name of Object.keys(myQuery)) {
    if (!specQuery.some((p) => p.name === name)) problems.push(`query ${name}: not in the contract`);
  }
  expect(problems).toEqual([]);
}
