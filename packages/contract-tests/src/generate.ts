// Invalid requests generated from the contract: for an operation and a valid baseline request, fast-check
// arbitraries derived from the operation's parameter and body schemas turn the baseline into invalid requests,
// one field at a time (wrong type, missing required member, out of range, unknown enum value, pattern or length
// violation, too many or too few items, repeated unique items), plus whole-message faults (invalid JSON, a body
// of the wrong type, a missing or oversized body), malformed or unknown ids in the path, cursors no `next` link
// carried, and bad credentials. Mutations that claim to break the schema are kept only when the contract's own
// request validation agrees, so every request sent is invalid by the contract's definition (or names an id that
// does not exist, or a cursor the server never gave out).
import { type Contract, deriveView, type Operation, resolvePointer } from "@htcemu/contract";
import fc from "fast-check";

export type Schema = Record<string, unknown>;

export interface HttpRequestSpec {
  readonly method: string;
  /** Raw (unencoded) path parameter values. */
  readonly pathParams: Readonly<Record<string, string>>;
  readonly query: readonly (readonly [string, string])[];
  readonly body?: BodySpec;
  readonly auth: AuthSpec;
}

export type BodySpec =
  /** Sent as JSON.stringify(value) with Content-Type application/json. */
  | { readonly kind: "json"; readonly value: unknown }
  /** Sent urlencoded with Content-Type application/x-www-form-urlencoded. */
  | { readonly kind: "form"; readonly fields: readonly (readonly [string, string])[] }
  /** Sent as is (invalid JSON). */
  | { readonly kind: "raw"; readonly text: string; readonly contentType: string }
  /** A syntactically valid JSON body of `bytes` bytes, built when sent. */
  | { readonly kind: "oversized"; readonly bytes: number; readonly shape: "object" | "array" };

export type AuthSpec =
  /** The operation's own credentials (bearer token, API key, or none for public operations). */
  { readonly kind: "default" } | { readonly kind: "none" } | { readonly kind: "header"; readonly value: string };

export type MutationKind =
  | "wrong-type"
  | "missing-required"
  | "out-of-range"
  | "not-an-integer"
  | "unknown-enum"
  | "pattern"
  | "too-short"
  | "too-long"
  | "too-many-items"
  | "too-few-items"
  | "duplicate-items"
  | "unknown-id"
  | "malformed-id"
  | "unknown-cursor"
  | "invalid-json"
  | "wrong-content-type"
  | "missing-body"
  | "oversized-body"
  | "credentials"
  | "undeclared-query";

export interface InvalidRequest {
  readonly kind: MutationKind;
  /** What was broken: `body/0/htcJobDefinition/maxVCpus`, `query/pageSize`, `path/projectId`, `body`, `authorization`. */
  readonly where: string;
  readonly request: HttpRequestSpec;
  /** Whether the contract's request validation rejects it (ids, cursors, credentials and sizes are semantic). */
  readonly specInvalid: boolean;
  /** Statuses that must answer it, when narrower than "a declared 4xx" (credentials: 401). */
  readonly expectStatus?: readonly number[];
  /**
   * The server may ignore what is wrong: the contract tolerates unknown extras, and promises nothing for a cursor
   * it never gave out, so a success whose answer is the contract's passes too (still never a 5xx, still no state
   * change). Only on requests that cannot write.
   */
  readonly tolerated?: boolean;
}

/** The query parameter no operation declares, sent once to every operation. */
export const UNDECLARED_QUERY_PARAMETER = "htcContractUndeclared";

export interface GeneratorOptions {
  /** Values that name existing resources and must never be generated as "unknown" ids (limit ids, job ids, …). */
  readonly existing?: ReadonlySet<string>;
  /** The body size the server refuses (default: 32 MiB); oversized bodies are one MiB larger. */
  readonly bodyLimitBytes?: number;
  /** The target's API key (a key sent where a bearer token belongs is one of the credential faults). */
  readonly apiKey?: string;
}

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

const DELETE = Symbol("delete");

/** Schemas of the contract's request view (readOnly members are `true` there: anything goes, and it is ignored). */
export class SchemaWalker {
  private readonly view: Schema;
  constructor(readonly contract: Contract) {
    this.view = deriveView(contract.document as never, "request");
  }

  /** The request-view schema at a pointer of the document (as ParameterSpec/RequestBodySpec locations give). */
  at(pointer: string): unknown {
    return resolvePointer(this.view, `#${pointer.split("/").map(encodeURIComponent).join("/")}`);
  }

  /**
   * Follows $ref, folds allOf members into one schema, and turns a nullable member (`anyOf: [X, {type: "null"}]`)
   * into X admitting null (enough for the shapes this contract uses).
   */
  resolve(schema: unknown, depth = 0): Schema | true {
    if (schema === true || schema === undefined) return true;
    if (typeof schema !== "object" || schema === null || depth > 20) return true;
    let current = schema as Schema;
    if (typeof current["$ref"] === "string") {
      const { $ref, ...rest } = current;
      const target = this.resolve(resolvePointer(this.view, $ref as string), depth + 1);
      if (target === true) return true;
      current = { ...target, ...rest };
    }
    if (Array.isArray(current["anyOf"])) {
      const members = current["anyOf"] as unknown[];
      const others = members.filter((m) => !(typeof m === "object" && m !== null && (m as Schema)["type"] === "null"));
      if (others.length === 1 && others.length < members.length) {
        const { anyOf: _, ...rest } = current;
        const target = this.resolve(others[0], depth + 1);
        if (target === true) return true;
        current = { ...target, ...rest, type: [...typesOf(target), "null"] };
      }
    }
    if (Array.isArray(current["allOf"])) {
      const { allOf, ...rest } = current;
      let merged: Schema = {};
      for (const member of allOf as unknown[]) {
        const resolved = this.resolve(member, depth + 1);
        if (resolved === true) continue;
        merged = {
          ...merged,
          ...resolved,
          properties: { ...(merged["properties"] as Schema), ...(resolved["properties"] as Schema) },
          required: [...((merged["required"] as string[]) ?? []), ...((resolved["required"] as string[]) ?? [])],
        };
      }
      current = { ...merged, ...rest };
    }
    return current;
  }
}

export function typesOf(schema: Schema): Set<string> {
  const types = new Set<string>();
  const type = schema["type"];
  for (const t of Array.isArray(type) ? type : type === undefined ? [] : [type]) types.add(String(t));
  if (types.size === 0 && Array.isArray(schema["enum"])) {
    for (const v of schema["enum"] as unknown[]) types.add(v === null ? "null" : typeof v === "number" ? "number" : typeof v);
  }
  if (types.size === 0 && schema["properties"]) types.add("object");
  return types;
}

/** A place in a JSON body that can be broken: where it is, its schema, whether it must be present. */
interface Site {
  readonly path: readonly (string | number)[];
  readonly schema: Schema;
  readonly required: boolean;
  readonly present: boolean;
  readonly value: unknown;
}

function sitesOf(walker: SchemaWalker, schema: unknown, value: unknown, path: (string | number)[], required: boolean, depth = 0): Site[] {
  const resolved = walker.resolve(schema);
  if (resolved === true) return [];
  const out: Site[] = [{ path, schema: resolved, required, present: value !== undefined, value }];
  if (depth > 6) return out;
  const types = typesOf(resolved);
  if (types.has("object") && (value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value)))) {
    const object = (value ?? {}) as Record<string, unknown>;
    const requiredNames = new Set((resolved["required"] as string[] | undefined) ?? []);
    // Members of an absent object are reached by setting the object first; only descend into present ones.
    if (value !== undefined) {
      for (const [name, member] of Object.entries((resolved["properties"] as Record<string, unknown> | undefined) ?? {})) {
        if (member === true) continue;
        out.push(...sitesOf(walker, member, object[name], [...path, name], requiredNames.has(name), depth + 1));
      }
      const extra = resolved["additionalProperties"];
      if (extra && typeof extra === "object") {
        for (const name of Object.keys(object)) {
          if (!(name in ((resolved["properties"] as object | undefined) ?? {})))
            out.push(...sitesOf(walker, extra, object[name], [...path, name], false, depth + 1));
        }
      }
    }
  }
  if (types.has("array") && Array.isArray(value)) {
    const items = resolved["items"];
    if (value.length === 0) out.push(...sitesOf(walker, items, undefined, [...path, 0], false, depth + 1));
    value.slice(0, 2).forEach((item, index) => {
      out.push(...sitesOf(walker, items, item, [...path, index], true, depth + 1));
    });
  }
  return out;
}

/** A deep copy of `root` with the value at `path` replaced (or deleted). */
export function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value === DELETE ? undefined : value;
  const [head, ...rest] = path;
  if (typeof head === "number") {
    const list = Array.isArray(root) ? [...root] : [];
    if (rest.length === 0 && value === DELETE) list.splice(head, 1);
    else list[head] = setAt(list[head], rest, value);
    return list;
  }
  const object = { ...(typeof root === "object" && root !== null && !Array.isArray(root) ? (root as Record<string, unknown>) : {}) };
  if (rest.length === 0 && value === DELETE) delete object[head!];
  else object[head!] = setAt(object[head!], rest, value);
  return object;
}

const anyJson = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.string({ maxLength: 16 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxKeys: 2 }),
  );

/** Strings that break common name patterns (image and repository names, file paths). */
const PATTERN_BREAKERS = [
  "UPPER",
  "Not/Valid",
  "-leading",
  "trailing-",
  "a..b",
  "a//b",
  "with space",
  "/absolute",
  "../escape",
  "a/../b",
  "x:",
  ":tag",
  "a:b:c",
  "ünïcödé",
  "tab\there",
  "new\nline",
];

/** Numbers on the wrong side of a schema's bounds, and fractions for integers. */
function numberCandidates(schema: Schema): fc.Arbitrary<{ kind: MutationKind; value: number }> {
  const arbitraries: fc.Arbitrary<{ kind: MutationKind; value: number }>[] = [];
  const minimum = typeof schema["minimum"] === "number" ? (schema["minimum"] as number) : undefined;
  const maximum = typeof schema["maximum"] === "number" ? (schema["maximum"] as number) : undefined;
  const range = (value: number) => ({ kind: "out-of-range" as const, value });
  if (minimum !== undefined) {
    arbitraries.push(fc.constantFrom(minimum - 1, minimum - 1000, -(2 ** 31) - 1).map(range));
    arbitraries.push(fc.integer({ min: -(2 ** 31), max: minimum - 1 }).map(range));
  }
  if (maximum !== undefined) {
    arbitraries.push(fc.constantFrom(maximum + 1, maximum * 10 + 7, 2 ** 31, 2 ** 53, 1e300).map(range));
    arbitraries.push(fc.integer({ min: maximum + 1, max: 2 ** 31 - 1 }).map(range));
  } else if (schema["format"] === "int32") {
    arbitraries.push(fc.constantFrom(2 ** 31, 2 ** 40, 1e300).map(range));
  }
  if (typesOf(schema).has("integer")) {
    arbitraries.push(fc.constantFrom(0.5, 1.5, -0.25, 3.000001).map((value) => ({ kind: "not-an-integer" as const, value })));
    arbitraries.push(
      fc
        .double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })
        .filter((v) => !Number.isInteger(v))
        .map((value) => ({ kind: "not-an-integer" as const, value })),
    );
  }
  return arbitraries.length > 0 ? fc.oneof(...arbitraries) : fc.constant({ kind: "out-of-range" as const, value: 2 ** 31 });
}

/** Ways to break one site of a JSON body, as (kind, new value or DELETE). */
function siteMutations(site: Site): fc.Arbitrary<{ kind: MutationKind; value: unknown }>[] {
  const { schema } = site;
  const types = typesOf(schema);
  const out: fc.Arbitrary<{ kind: MutationKind; value: unknown }>[] = [anyJson().map((value) => ({ kind: "wrong-type", value }))];
  if (site.required && site.present && site.path.length > 0) out.push(fc.constant({ kind: "missing-required", value: DELETE }));
  if (Array.isArray(schema["enum"])) {
    const values = (schema["enum"] as unknown[]).filter((v): v is string => typeof v === "string");
    out.push(
      fc
        .oneof(
          fc.constantFrom(
            "UNKNOWN_VALUE",
            "",
            ...values.map((v) => v.toLowerCase()),
            ...values.map((v) => `${v} `),
            ...values.map((v) => `${v}_X`),
          ),
          fc.string({ minLength: 1, maxLength: 12 }),
        )
        .map((value) => ({ kind: "unknown-enum", value })),
    );
  }
  if (types.has("integer") || types.has("number")) out.push(numberCandidates(schema));
  if (types.has("string")) {
    if (typeof schema["minLength"] === "number" && (schema["minLength"] as number) > 0)
      out.push(fc.constant({ kind: "too-short", value: "" }));
    if (typeof schema["maxLength"] === "number")
      out.push(fc.constant({ kind: "too-long", value: "x".repeat((schema["maxLength"] as number) + 1) }));
    if (typeof schema["pattern"] === "string") {
      out.push(fc.oneof(fc.constantFrom(...PATTERN_BREAKERS), fc.string({ maxLength: 24 })).map((value) => ({ kind: "pattern", value })));
    }
  }
  if (types.has("array")) {
    const current = Array.isArray(site.value) ? site.value : [];
    if (typeof schema["maxItems"] === "number") {
      const count = (schema["maxItems"] as number) + 1;
      const item = current[0] ?? null;
      out.push(fc.constant({ kind: "too-many-items", value: Array.from({ length: count }, () => item) }));
    }
    if (typeof schema["minItems"] === "number" && (schema["minItems"] as number) > 0)
      out.push(fc.constant({ kind: "too-few-items", value: [] }));
    if (schema["uniqueItems"] === true && current.length > 0)
      out.push(fc.constant({ kind: "duplicate-items", value: [current[0], current[0]] }));
  }
  return out;
}

function pointerOf(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** Whether a path segment would be removed or resolved by URL normalisation (`.`, `..`, `%2e%2E`, …). */
function isDotSegment(value: string): boolean {
  return /^(?:\.|%2e){1,2}$/i.test(encodeURIComponent(value));
}

/**
 * Values for `pageIndex` that no `next` link is likely to have carried. The contract calls cursors opaque, so
 * nothing here assumes a format: a few shapes that trip up decoders (numbers, a lone letter, broken base64,
 * percent signs, a long value) and random strings.
 */
const JUNK_CURSORS = ["x", "-1", "0", "42", "k", "eyJ9", "%%%", "a".repeat(4096), "null", "\u0000"];

export class InvalidRequestGenerator {
  readonly walker: SchemaWalker;
  private readonly existing: ReadonlySet<string>;
  private readonly bodyLimit: number;

  constructor(
    readonly contract: Contract,
    private readonly options: GeneratorOptions = {},
  ) {
    this.walker = new SchemaWalker(contract);
    this.existing = options.existing ?? new Set();
    this.bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  }

  /** The contract's verdict on a request (empty: valid). */
  violations(op: Operation, request: HttpRequestSpec): string[] {
    const headers: Record<string, string> = {};
    let body: unknown;
    if (request.body?.kind === "json") {
      headers["content-type"] = "application/json";
      body = request.body.value;
    } else if (request.body?.kind === "form") {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(request.body.fields as [string, string][]).toString();
    } else if (request.body) {
      return ["the body is not JSON the contract could accept"];
    }
    return this.contract
      .validateRequest({
        method: op.method,
        path: requestPath(op, request.pathParams),
        query: new URLSearchParams(request.query as [string, string][]),
        headers,
        body,
      })
      .map((v) => `${v.in}${v.pointer}: ${v.message}`);
  }

  /** The operation's security: `bearer` (default), `apiKey` (`Token <key>`), or `none`. */
  security(op: Operation): "bearer" | "apiKey" | "none" {
    const security = op.raw["security"];
    if (!Array.isArray(security)) return "bearer";
    if (security.length === 0) return "none";
    return security.some((s) => s && typeof s === "object" && "ApiKeyAuth" in s) ? "apiKey" : "bearer";
  }

  /**
   * An arbitrary of invalid variants of `baseline`, or undefined when the operation takes no input that could be
   * wrong (no parameters, no body, no credentials).
   */
  arbitrary(op: Operation, baseline: HttpRequestSpec): fc.Arbitrary<InvalidRequest> | undefined {
    // Field-level faults outnumber the rest: there are more ways to get a field wrong than credentials.
    const parts = [
      ...this.pathArbitraries(op, baseline).map((arbitrary) => ({ arbitrary, weight: 2 })),
      ...this.queryArbitraries(op, baseline).map((arbitrary) => ({ arbitrary, weight: 3 })),
      ...this.bodyArbitraries(op, baseline).map((arbitrary) => ({ arbitrary, weight: 3 })),
      ...this.credentialArbitraries(op, baseline).map((arbitrary) => ({ arbitrary, weight: 1 })),
    ];
    if (parts.length === 0) return undefined;
    return fc.oneof(...parts).filter((candidate) => !candidate.specInvalid || this.violations(op, candidate.request).length > 0);
  }

  /**
   * Cases every run sends once, whatever the seed and the time budget: a missing required body, an oversized
   * body, invalid JSON, one item over every `maxItems` of the body (a submit of 101 batches), no credentials, and
   * an undeclared query parameter (so even an operation without inputs, getJwks, gets a request).
   */
  fixedCases(op: Operation, baseline: HttpRequestSpec): InvalidRequest[] {
    const cases: InvalidRequest[] = [];
    const json = op.requestBody?.content["application/json"];
    const invalidJson: BodySpec = { kind: "raw", text: "{not json", contentType: "application/json" };
    if (op.requestBody?.required && baseline.body) {
      cases.push({ kind: "missing-body", where: "body", request: { ...baseline, body: undefined }, specInvalid: true });
    }
    if (json) {
      const shape =
        this.walker.resolve(json.schema) !== true && typesOf(this.walker.resolve(json.schema) as Schema).has("array") ? "array" : "object";
      cases.push({
        kind: "oversized-body",
        where: "body",
        request: { ...baseline, body: { kind: "oversized", bytes: this.bodyLimit + 1024 * 1024, shape } },
        specInvalid: false,
      });
      cases.push({ kind: "invalid-json", where: "body", request: { ...baseline, body: invalidJson }, specInvalid: true });
    }
    if (json && baseline.body?.kind === "json") {
      // The arbitrary reaches these only by chance (one branch among dozens); the batch limit matters too much.
      const root = baseline.body.value;
      for (const site of sitesOf(this.walker, this.walker.at(json.pointer), root, [], op.requestBody?.required === true)) {
        if (typeof site.schema["maxItems"] !== "number" || !Array.isArray(site.value) || site.value.length === 0) continue;
        const items = Array.from(
          { length: (site.schema["maxItems"] as number) + 1 },
          (_, i) => (site.value as unknown[])[i % (site.value as unknown[]).length],
        );
        const request = { ...baseline, body: { kind: "json" as const, value: setAt(root, site.path, items) } };
        if (this.violations(op, request).length > 0)
          cases.push({ kind: "too-many-items", where: `body${pointerOf(site.path)}`, request, specInvalid: true });
      }
    }
    const security = this.security(op);
    if (security !== "none")
      cases.push({
        kind: "credentials",
        where: "authorization",
        request: { ...baseline, auth: { kind: "none" } },
        specInvalid: false,
        expectStatus: [401],
      });
    cases.push(this.undeclaredQuery(op, baseline, invalidJson));
    return cases;
  }

  /**
   * The baseline plus a query parameter the operation does not declare. The contract tolerates unknown extras, so
   * a read may ignore it (or refuse it with a declared 4xx). A write that ignored it would act, so there the
   * parameter rides on a request that must be refused anyway (invalid JSON, else no credentials): it must not turn
   * the refusal into a success or a 5xx.
   */
  private undeclaredQuery(op: Operation, baseline: HttpRequestSpec, invalidJson: BodySpec): InvalidRequest {
    const where = `query/${UNDECLARED_QUERY_PARAMETER}`;
    const query = [...baseline.query, [UNDECLARED_QUERY_PARAMETER, "1"] as const];
    if (op.method === "GET" || op.method === "HEAD")
      return { kind: "undeclared-query", where, request: { ...baseline, query }, specInvalid: true, tolerated: true };
    if (op.requestBody?.content["application/json"])
      return { kind: "undeclared-query", where, request: { ...baseline, query, body: invalidJson }, specInvalid: true };
    if (this.security(op) !== "none")
      return {
        kind: "undeclared-query",
        where,
        request: { ...baseline, query, auth: { kind: "none" } },
        specInvalid: true,
        expectStatus: [401],
      };
    // A public write without a JSON body (createOAuth2Token): its valid request changes nothing the API shows.
    return { kind: "undeclared-query", where, request: { ...baseline, query }, specInvalid: true, tolerated: true };
  }

  /** Whether the operation's 200 answer is a page (`{items, next}`), so that a cursor means something. */
  isPaginated(op: Operation): boolean {
    const ok = op.responses["200"]?.content["application/json"];
    if (!ok) return false;
    const schema = this.walker.resolve(this.walker.at(ok.pointer));
    return schema !== true && typeof schema["properties"] === "object" && "next" in (schema["properties"] as object);
  }

  private pathArbitraries(op: Operation, baseline: HttpRequestSpec): fc.Arbitrary<InvalidRequest>[] {
    const out: fc.Arbitrary<InvalidRequest>[] = [];
    for (const param of op.parameters.filter((p) => p.in === "path")) {
      const schema = this.walker.resolve(param.schema ? this.walker.at(param.schema.pointer) : undefined);
      const with_ = (value: string) => ({ ...baseline, pathParams: { ...baseline.pathParams, [param.name]: value } });
      const where = `path/${param.name}`;
      const current = baseline.pathParams[param.name] ?? "";
      const usable = (value: string) => value !== "" && value !== current && !isDotSegment(value) && !this.existing.has(value);
      const s = schema === true ? undefined : schema;
      const isEnum = Array.isArray(s?.["enum"]);
      const hasPattern = typeof s?.["pattern"] === "string";
      const isInteger = s !== undefined && typesOf(s).has("integer");
      const constrained = isEnum || hasPattern || isInteger;
      // Values the schema refuses: unknown enum members, pattern breakers, non-integers and out-of-range ids.
      if (constrained) {
        const candidates = fc.oneof(
          fc.constantFrom(
            "0",
            "-1",
            "1.5",
            "abc",
            "2147483648",
            "99999999999999999999",
            "1e3",
            " 1",
            "+1",
            "0x1",
            "1e0",
            "1.0",
            "MARS_1",
            "aws_us_east_1",
            "UNASSIGNED",
            "RC_ICELAND_1",
            ...PATTERN_BREAKERS,
          ),
          fc.string({ minLength: 1, maxLength: 24 }),
        );
        const kind: MutationKind = isEnum ? "unknown-enum" : hasPattern ? "pattern" : "malformed-id";
        out.push(candidates.filter(usable).map((value) => ({ kind, where, request: with_(value), specInvalid: true })));
      }
      // Ids that name nothing. Not for names the operation would create (repoName) or enumerated values.
      if (!constrained || isInteger) {
        const unknown = fc
          .oneof(
            fc.constantFrom(
              "00000000-0000-0000-0000-000000000000",
              "not-a-uuid",
              "a/b",
              "%",
              "\u0000",
              "'; DROP TABLE projects; --",
              "x".repeat(1500),
              "999999999",
              "parent:0",
              "abc:-1",
              "no-such-image:v1",
              "ÿ💥",
            ),
            fc.string({ minLength: 1, maxLength: 40 }),
            fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" }),
          )
          .filter(usable)
          // Integer ids: only numbers that cannot be a limit of this emulator run.
          .filter((value) => !isInteger || !/^\d{1,6}$/.test(value));
        out.push(unknown.map((value) => ({ kind: "unknown-id" as const, where, request: with_(value), specInvalid: false })));
      }
    }
    return out;
  }

  private queryArbitraries(op: Operation, baseline: HttpRequestSpec): fc.Arbitrary<InvalidRequest>[] {
    const out: fc.Arbitrary<InvalidRequest>[] = [];
    for (const param of op.parameters.filter((p) => p.in === "query")) {
      let schema = this.walker.resolve(param.schema ? this.walker.at(param.schema.pointer) : undefined);
      if (schema === true) continue;
      if (typesOf(schema).has("array")) {
        const items = this.walker.resolve(schema["items"]);
        if (items === true) continue;
        schema = items;
      }
      const where = `query/${param.name}`;
      const without = baseline.query.filter(([key]) => key !== param.name);
      const with_ = (value: string) => ({ ...baseline, query: [...without, [param.name, value] as const] });
      if (param.required && baseline.query.some(([key]) => key === param.name)) {
        out.push(fc.constant({ kind: "missing-required" as const, where, request: { ...baseline, query: without }, specInvalid: true }));
      }
      const types = typesOf(schema);
      const candidates: fc.Arbitrary<{ kind: MutationKind; value: string }>[] = [];
      if (types.has("integer") || types.has("number")) {
        candidates.push(
          fc
            .constantFrom("abc", "1.5", "", "1e3", " 1", "0x10", "NaN", "Infinity", "+1", "١")
            .map((value) => ({ kind: "wrong-type" as const, value })),
        );
        candidates.push(numberCandidates(schema).map(({ kind, value }) => ({ kind, value: String(value) })));
        candidates.push(
          fc.constantFrom("2147483648", "99999999999999999999", "-99999999999").map((value) => ({ kind: "out-of-range" as const, value })),
        );
      }
      if (types.has("boolean"))
        candidates.push(
          fc
            .oneof(fc.constantFrom("yes", "1", "0", "TRUE", "False", "", "on"), fc.string({ maxLength: 8 }))
            .map((value) => ({ kind: "wrong-type" as const, value })),
        );
      if (Array.isArray(schema["enum"])) {
        const values = (schema["enum"] as unknown[]).map(String);
        candidates.push(
          fc
            .oneof(
              fc.constantFrom("NOPE", "", ...values.map((v) => v.toLowerCase()), ...values.map((v) => `${v}x`)),
              fc.string({ maxLength: 12 }),
            )
            .map((value) => ({ kind: "unknown-enum" as const, value })),
        );
      }
      if (types.has("string") && !Array.isArray(schema["enum"])) {
        if (typeof schema["minLength"] === "number" && (schema["minLength"] as number) > 0)
          candidates.push(fc.constant({ kind: "too-short" as const, value: "" }));
        if (typeof schema["pattern"] === "string")
          candidates.push(
            fc
              .oneof(fc.constantFrom(...PATTERN_BREAKERS), fc.string({ maxLength: 24 }))
              .map((value) => ({ kind: "pattern" as const, value })),
          );
      }
      if (candidates.length > 0)
        out.push(fc.oneof(...candidates).map(({ kind, value }) => ({ kind, where, request: with_(value), specInvalid: true })));
      if (param.name === "pageIndex") {
        // The contract promises nothing for a cursor no `next` link carried: the server may refuse it (a declared
        // 4xx) or serve a page (which must then be the contract's). Either way never a 5xx, never a state change.
        const current = baseline.query.find(([key]) => key === param.name)?.[1];
        const cursors = fc
          .oneof(fc.constantFrom(...JUNK_CURSORS), fc.string({ minLength: 1, maxLength: 64 }))
          .filter((value) => value !== current);
        const tolerated = op.method === "GET" || op.method === "HEAD";
        out.push(
          cursors.map((value) => ({ kind: "unknown-cursor" as const, where, request: with_(value), specInvalid: false, tolerated })),
        );
      }
    }
    return out;
  }

  private bodyArbitraries(op: Operation, baseline: HttpRequestSpec): fc.Arbitrary<InvalidRequest>[] {
    const out: fc.Arbitrary<InvalidRequest>[] = [];
    const json = op.requestBody?.content["application/json"];
    const form = op.requestBody?.content["application/x-www-form-urlencoded"];
    if (json && baseline.body?.kind === "json") {
      const root = baseline.body.value;
      const sites = sitesOf(this.walker, this.walker.at(json.pointer), root, [], op.requestBody?.required === true);
      for (const site of sites) {
        const where = `body${pointerOf(site.path)}`;
        for (const mutation of siteMutations(site)) {
          out.push(
            mutation.map(({ kind, value }) => ({
              kind,
              where,
              request: { ...baseline, body: { kind: "json" as const, value: setAt(root, site.path, value) } },
              specInvalid: true,
            })),
          );
        }
      }
      const invalidJson = fc.oneof(
        fc.constantFrom(
          "{",
          "[1,",
          '{"a":}',
          "nul",
          "'single'",
          "{}}",
          "[]]",
          '"unterminated',
          '{"a":1,}',
          "NaN",
          "undefined",
          "{'a':1}",
          "\u0000",
          "<xml/>",
        ),
        fc.string({ minLength: 1, maxLength: 24 }).filter((text) => text.trim() !== "" && !parsesAsJson(text)),
      );
      out.push(
        invalidJson.map((text) => ({
          kind: "invalid-json" as const,
          where: "body",
          request: { ...baseline, body: { kind: "raw" as const, text, contentType: "application/json" } },
          specInvalid: true,
        })),
      );
      // The right JSON under a media type the operation does not declare.
      const text = JSON.stringify(root);
      out.push(
        fc
          .constantFrom(
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
            "multipart/form-data; boundary=x",
            "application/octet-stream",
          )
          .map((contentType) => ({
            kind: "wrong-content-type" as const,
            where: "content-type",
            request: { ...baseline, body: { kind: "raw" as const, text, contentType } },
            specInvalid: true,
          })),
      );
    }
    if (form && baseline.body?.kind === "form") {
      const fields = Object.fromEntries(baseline.body.fields);
      const schema = this.walker.resolve(this.walker.at(form.pointer));
      if (schema !== true) {
        const required = new Set((schema["required"] as string[] | undefined) ?? []);
        for (const [name, member] of Object.entries((schema["properties"] as Record<string, unknown>) ?? {})) {
          const resolved = this.walker.resolve(member);
          if (resolved === true) continue;
          const site: Site = { path: [name], schema: resolved, required: required.has(name), present: name in fields, value: fields[name] };
          // Form fields are text: only string-valued breakages apply.
          for (const mutation of siteMutations(site)) {
            out.push(
              mutation
                .filter(({ value }) => value === DELETE || typeof value === "string")
                .map(({ kind, value }) => {
                  const next = setAt(fields, [name], value) as Record<string, string>;
                  return {
                    kind,
                    where: `body/${name}`,
                    request: { ...baseline, body: { kind: "form" as const, fields: Object.entries(next) } },
                    specInvalid: true,
                  };
                }),
            );
          }
        }
      }
    }
    return out;
  }

  private credentialArbitraries(op: Operation, baseline: HttpRequestSpec): fc.Arbitrary<InvalidRequest>[] {
    const security = this.security(op);
    if (security === "none") return [];
    const values =
      security === "bearer"
        ? [
            "Bearer not.a.jwt",
            "Bearer",
            "Basic dXNlcjpwYXNz",
            "bearer",
            "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
            ...(this.options.apiKey ? [`Token ${this.options.apiKey}`] : []),
          ]
        : ["Token not-a-key", "Token", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Refresh not-a-refresh-token"];
    const header = fc.oneof(
      fc.constantFrom(...values),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `${security === "bearer" ? "Bearer" : "Token"} ${s.replace(/[\r\n]/g, "")}`),
    );
    return [
      header.map((value) => ({
        kind: "credentials" as const,
        where: "authorization",
        request: { ...baseline, auth: { kind: "header" as const, value } },
        specInvalid: false,
        expectStatus: security === "apiKey" ? [400, 401] : [401],
      })),
    ];
  }
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The concrete path (relative to the API base URL) with every parameter percent-encoded. */
export function requestPath(op: Operation, pathParams: Readonly<Record<string, string>>): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathParams[name] ?? ""));
}

/** The body as bytes to send, with its Content-Type. */
export function encodeBody(body: BodySpec | undefined): { payload?: string; contentType?: string } {
  if (!body) return {};
  switch (body.kind) {
    case "json":
      return { payload: body.value === undefined ? "" : JSON.stringify(body.value), contentType: "application/json" };
    case "form":
      return {
        payload: new URLSearchParams(body.fields as [string, string][]).toString(),
        contentType: "application/x-www-form-urlencoded",
      };
    case "raw":
      return { payload: body.text, contentType: body.contentType };
    case "oversized": {
      const pad = "x".repeat(body.bytes);
      return { payload: body.shape === "array" ? `[{"pad":"${pad}"}]` : `{"pad":"${pad}"}`, contentType: "application/json" };
    }
  }
}

/** A one-line description of a request for reports (long values cut). */
export function describeRequest(op: Operation, request: HttpRequestSpec): string {
  const query = new URLSearchParams(request.query as [string, string][]).toString();
  const { payload, contentType } = encodeBody(request.body);
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
  const auth =
    request.auth.kind === "default"
      ? ""
      : request.auth.kind === "none"
        ? " [no Authorization]"
        : ` [Authorization: ${cut(request.auth.value, 40)}]`;
  const type = contentType && contentType !== "application/json" ? ` [Content-Type: ${contentType}]` : "";
  return `${op.method} ${cut(requestPath(op, request.pathParams), 200)}${query ? `?${cut(query, 200)}` : ""}${payload !== undefined ? ` body ${cut(payload, 300)}` : ""}${type}${auth}`;
}
