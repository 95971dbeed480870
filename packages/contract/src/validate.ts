// Validation of requests and responses against the contract with ajv (JSON Schema 2020-12, which is what
// OpenAPI 3.1 schemas are). Both views of the document (see schemas.ts) are registered once under their own
// `$id`; each schema is then compiled lazily as a `$ref` to its JSON pointer and cached.
import type { ErrorObject, ValidateFunction } from "ajv";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { findMediaType, isJsonMediaType } from "./media-type.js";
import type { Operation, OperationIndex, ParameterSpec, SchemaLocation } from "./operations.js";
import { deriveView, escapePointer, isObject, resolvePointer, type SchemaView } from "./schemas.js";

// Both packages are CommonJS with `exports.default`; under NodeNext the default import is the module object.
const Ajv2020 = (Ajv2020Module.default ?? Ajv2020Module) as typeof Ajv2020Module.default;
const addFormats = (addFormatsModule.default ?? addFormatsModule) as typeof addFormatsModule.default;
type AjvInstance = InstanceType<typeof Ajv2020>;

export interface Violation {
  /** Which part of the message is wrong. */
  readonly in: "operation" | "status" | "contentType" | "path" | "query" | "header" | "cookie" | "body";
  /** JSON pointer into that part: `/projects/0/projectId` in a body, `/pageSize` among the query parameters. */
  readonly pointer: string;
  readonly message: string;
  readonly operationId?: string;
  /** The JSON Schema keyword that failed, for schema violations. */
  readonly keyword?: string;
}

export type HeadersInput = Headers | Record<string, string | readonly string[] | undefined>;
export type QueryInput = URLSearchParams | string | Record<string, string | number | boolean | readonly string[] | undefined>;

export interface RequestInput {
  readonly method: string;
  /** A concrete path, with or without `/api/v1`; a query string here is merged with `query`. */
  readonly path: string;
  readonly query?: QueryInput;
  readonly headers?: HeadersInput;
  /**
   * The body: the parsed value for JSON media types, a string/URLSearchParams/record for form bodies, text
   * otherwise. `undefined` means no body.
   */
  readonly body?: unknown;
}

/** An operationId, or a request (method and concrete path) to match. */
export type ResponseTarget = string | { readonly method: string; readonly path: string };

export interface ResponseValidationOptions {
  /**
   * Also require every member that a response object declares, whether or not the contract lists it as
   * `required` (members marked `x-htc-absent-when-unset`, the `next` link of a page, excepted). This is the
   * emulator's guarantee (a member without a value is sent as `null`, as production's backend does), checked
   * for the emulator's responses; a production response is only held to what the contract requires.
   */
  readonly allDeclaredPresent?: boolean;
}

const VIEW_ID: Record<SchemaView, string> = {
  request: "https://htcemu.invalid/openapi/request-view.json",
  response: "https://htcemu.invalid/openapi/response-view.json",
  "complete-response": "https://htcemu.invalid/openapi/complete-response-view.json",
};

const MISSING_MEMBER = "must be present: every member the schema declares is sent, null when it has no value";

/** Header parameters that OpenAPI says are described elsewhere and must be ignored. */
const IGNORED_HEADERS = new Set(["accept", "content-type", "authorization"]);

export class ContractValidator {
  private readonly ajv: AjvInstance;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly registered = new Set<SchemaView>();

  constructor(private readonly contract: OperationIndex) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
  }

  validateRequest(input: RequestInput): Violation[] {
    const [path, queryString] = splitQuery(input.path);
    const method = input.method.toUpperCase();
    const match = this.contract.match(method, path);
    if (!match) {
      const methods = this.contract.methodsAt(path);
      const message =
        methods.length > 0
          ? `${method} is not declared for ${path} (declared: ${methods.join(", ")})`
          : `no operation matches ${method} ${path}`;
      return [{ in: "operation", pointer: "", message }];
    }
    const op = match.operation;
    const query = queryValues(queryString, input.query);
    const headers = headerValues(input.headers);
    const violations: Violation[] = [];
    for (const param of op.parameters) {
      if (param.in === "cookie" || (param.in === "header" && IGNORED_HEADERS.has(param.name.toLowerCase()))) continue;
      const raw =
        param.in === "path"
          ? optionalList(match.params[param.name])
          : param.in === "query"
            ? query.get(param.name)
            : optionalList(headers.get(param.name.toLowerCase()));
      if (param.in === "query") query.delete(param.name);
      if (raw === undefined || raw.length === 0) {
        if (param.required) violations.push(at(op, param.in, `/${param.name}`, `missing required ${param.in} parameter '${param.name}'`));
        continue;
      }
      violations.push(...this.checkParameter(op, param, raw));
    }
    for (const name of query.keys()) {
      violations.push(at(op, "query", `/${escapePointer(name)}`, `query parameter '${name}' is not declared`));
    }
    violations.push(...this.checkRequestBody(op, headers.get("content-type"), input.body));
    return violations;
  }

  validateResponse(
    target: ResponseTarget,
    status: number,
    contentType: string | null | undefined,
    body: unknown,
    options: ResponseValidationOptions = {},
  ): Violation[] {
    const op = this.resolveTarget(target);
    if (typeof op === "string") return [{ in: "operation", pointer: "", message: op }];
    const spec = op.responses[String(status)] ?? op.responses[`${Math.floor(status / 100)}XX`] ?? op.responses["default"];
    if (!spec) {
      const declared = Object.keys(op.responses).join(", ");
      return [at(op, "status", "", `status ${status} is not declared for ${op.operationId} (declared: ${declared})`)];
    }
    const declared = Object.keys(spec.content);
    if (declared.length === 0) {
      const hasBody = body !== undefined && body !== "";
      return hasBody ? [at(op, "body", "", `response ${spec.status} of ${op.operationId} declares no body`)] : [];
    }
    if (!contentType) {
      return [at(op, "contentType", "", `missing Content-Type (declared: ${declared.join(", ")})`)];
    }
    const media = findMediaType(declared, contentType);
    if (!media) {
      return [at(op, "contentType", "", `Content-Type ${contentType} is not declared (declared: ${declared.join(", ")})`)];
    }
    const location = spec.content[media];
    if (!location) return [];
    if (body === undefined) return [at(op, "body", "", "the response has no body")];
    if (!options.allDeclaredPresent) return this.check(op, "response", location, body, "body", "");
    return this.check(op, "complete-response", location, body, "body", "").map((v) =>
      v.keyword === "required" ? { ...v, message: MISSING_MEMBER } : v,
    );
  }

  private resolveTarget(target: ResponseTarget): Operation | string {
    if (typeof target === "string") return this.contract.findOperation(target) ?? `unknown operationId: ${target}`;
    const [path] = splitQuery(target.path);
    const match = this.contract.match(target.method, path);
    return match ? match.operation : `no operation matches ${target.method.toUpperCase()} ${path}`;
  }

  private checkParameter(op: Operation, param: ParameterSpec, raw: string[]): Violation[] {
    if (!param.schema) return [];
    const types = typesOf(this.contract.document, param.schema.schema);
    let value: unknown;
    if (types.has("array")) {
      const items = itemsOf(this.contract.document, param.schema.schema);
      // Exploded form arrays arrive as repeated keys; every other style joins the items with commas.
      const list = param.in === "query" && param.explode ? raw : raw.flatMap((v) => v.split(","));
      const itemTypes = typesOf(this.contract.document, items);
      value = list.map((v) => coerceScalar(param.in === "header" ? v.trim() : v, itemTypes));
    } else {
      if (raw.length > 1) {
        return [at(op, param.in, `/${param.name}`, `${param.in} parameter '${param.name}' is repeated but is not an array`)];
      }
      value = coerceScalar(raw[0]!, types);
    }
    return this.check(op, "request", param.schema, value, param.in, `/${escapePointer(param.name)}`);
  }

  private checkRequestBody(op: Operation, contentType: string | undefined, body: unknown): Violation[] {
    const spec = op.requestBody;
    if (!spec) return body === undefined ? [] : [at(op, "body", "", `${op.operationId} declares no request body`)];
    if (body === undefined) return spec.required ? [at(op, "body", "", "the request body is required")] : [];
    const declared = Object.keys(spec.content);
    // Without a Content-Type (a direct call), assume the only declared media type.
    const media = contentType ? findMediaType(declared, contentType) : declared.length === 1 ? declared[0] : undefined;
    if (!media) {
      return [
        at(op, "contentType", "", `request Content-Type ${contentType ?? "(none)"} is not declared (declared: ${declared.join(", ")})`),
      ];
    }
    const location = spec.content[media];
    if (!location) return [];
    const value = media === "application/x-www-form-urlencoded" ? formToObject(this.contract.document, location.schema, body) : body;
    return this.check(op, "request", location, value, "body", "");
  }

  private check(
    op: Operation,
    view: SchemaView,
    location: SchemaLocation,
    value: unknown,
    where: Violation["in"],
    prefix: string,
  ): Violation[] {
    const validate = this.compile(view, location.pointer);
    if (validate(value)) return [];
    return withoutNullBranches(validate.errors ?? []).map((error) => toViolation(op, where, prefix, error));
  }

  private compile(view: SchemaView, pointer: string): ValidateFunction {
    const key = `${view}#${pointer}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      // Each view is a copy of the whole document, derived the first time it is needed.
      if (!this.registered.has(view)) {
        this.ajv.addSchema({ ...deriveView(this.contract.document, view), $id: VIEW_ID[view] });
        this.registered.add(view);
      }
      const fragment = pointer.split("/").map(encodeURIComponent).join("/");
      validate = this.ajv.compile({ $ref: `${VIEW_ID[view]}#${fragment}` });
      this.compiled.set(key, validate);
    }
    return validate;
  }
}

/**
 * A nullable member is `anyOf: [X, {type: "null"}]`. When its value is not null and X fails, ajv reports X's
 * errors, "must be null" and "must match a schema in anyOf"; only X's errors say what is wrong.
 */
function withoutNullBranches(errors: ErrorObject[]): ErrorObject[] {
  const drop = new Set<ErrorObject>();
  for (const anyOf of errors) {
    if (anyOf.keyword !== "anyOf") continue;
    const at = anyOf.instancePath;
    const within = (e: ErrorObject) => e.instancePath === at || e.instancePath.startsWith(`${at}/`);
    const nullBranch = errors.filter(
      (e) =>
        e.keyword === "type" &&
        (e.params as { type?: unknown }).type === "null" &&
        e.instancePath === at &&
        e.schemaPath.startsWith(`${anyOf.schemaPath}/`),
    );
    // X's errors may come from a $ref, so they are recognised by where they point, not by their schema path.
    const others = errors.filter((e) => e !== anyOf && !nullBranch.includes(e) && within(e));
    if (nullBranch.length > 0 && others.length > 0) {
      drop.add(anyOf);
      for (const e of nullBranch) drop.add(e);
    }
  }
  return drop.size === 0 ? errors : errors.filter((e) => !drop.has(e));
}

function at(op: Operation, where: Violation["in"], pointer: string, message: string): Violation {
  return { in: where, pointer, message, operationId: op.operationId };
}

function toViolation(op: Operation, where: Violation["in"], prefix: string, error: ErrorObject): Violation {
  let pointer = prefix + error.instancePath;
  let message = error.message ?? "is invalid";
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required") pointer += `/${escapePointer(String(params["missingProperty"]))}`;
  if (error.keyword === "additionalProperties") pointer += `/${escapePointer(String(params["additionalProperty"]))}`;
  if (error.keyword === "enum") message += `: ${(params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  return { in: where, pointer, message, operationId: op.operationId, keyword: error.keyword };
}

function splitQuery(path: string): [string, string] {
  const cut = path.indexOf("?");
  return cut === -1 ? [path, ""] : [path.slice(0, cut), path.slice(cut + 1)];
}

function optionalList(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : [value];
}

function queryValues(fromPath: string, query: QueryInput | undefined): Map<string, string[]> {
  const values = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    values.set(key, [...(values.get(key) ?? []), value]);
  };
  for (const [key, value] of new URLSearchParams(fromPath)) add(key, value);
  if (query === undefined) return values;
  if (typeof query === "string" || query instanceof URLSearchParams) {
    for (const [key, value] of new URLSearchParams(query)) add(key, value);
  } else {
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) add(key, String(item));
    }
  }
  return values;
}

function headerValues(headers: HeadersInput | undefined): Map<string, string> {
  const values = new Map<string, string>();
  if (headers === undefined) return values;
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    values.set(key.toLowerCase(), Array.isArray(value) ? value.join(", ") : String(value));
  }
  return values;
}

/** The JSON types a schema admits, following `$ref`, `allOf`, `anyOf`, `oneOf` and `enum`/`const`. */
function typesOf(document: unknown, schema: unknown, seen = new Set<unknown>()): Set<string> {
  const types = new Set<string>();
  if (!isObject(schema) || seen.has(schema)) return types;
  seen.add(schema);
  const type = schema["type"];
  for (const t of Array.isArray(type) ? type : type === undefined ? [] : [type]) types.add(String(t));
  const values = Array.isArray(schema["enum"]) ? schema["enum"] : "const" in schema ? [schema["const"]] : [];
  for (const v of values) types.add(v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v);
  if (typeof schema["$ref"] === "string") {
    for (const t of typesOf(document, resolvePointer(document, schema["$ref"]), seen)) types.add(t);
  }
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    const list = schema[key];
    if (Array.isArray(list)) for (const member of list) for (const t of typesOf(document, member, seen)) types.add(t);
  }
  return types;
}

function itemsOf(document: unknown, schema: unknown): unknown {
  if (!isObject(schema)) return undefined;
  if (schema["items"] !== undefined) return schema["items"];
  return typeof schema["$ref"] === "string" ? itemsOf(document, resolvePointer(document, schema["$ref"])) : undefined;
}

function propertiesOf(document: unknown, schema: unknown): Record<string, unknown> {
  if (!isObject(schema)) return {};
  if (typeof schema["$ref"] === "string") return propertiesOf(document, resolvePointer(document, schema["$ref"]));
  const own = isObject(schema["properties"]) ? schema["properties"] : {};
  const fromAllOf = Array.isArray(schema["allOf"]) ? schema["allOf"].map((m) => propertiesOf(document, m)) : [];
  return Object.assign({}, ...fromAllOf, own);
}

/**
 * Strings from a URL (query, path, header, form field) become what the schema expects when they spell it:
 * `"12"` → 12 for integers, `"true"` → true for booleans. Anything else stays a string, so ajv reports it.
 */
function coerceScalar(value: string, types: Set<string>): unknown {
  if (types.size === 0 || types.has("string")) return value;
  if (types.has("integer") && /^-?\d+$/.test(value)) return Number(value);
  if (types.has("number") && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  if (types.has("boolean") && (value === "true" || value === "false")) return value === "true";
  return value;
}

/** A urlencoded body as an object, each field coerced like a query parameter. */
function formToObject(document: unknown, schema: unknown, body: unknown): unknown {
  if (isObject(body) && !(body instanceof URLSearchParams)) return body;
  if (typeof body !== "string" && !(body instanceof URLSearchParams)) return body;
  const fields = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(body)) fields.set(key, [...(fields.get(key) ?? []), value]);
  const properties = propertiesOf(document, schema);
  const out: Record<string, unknown> = {};
  for (const [key, values] of fields) {
    const types = typesOf(document, properties[key]);
    out[key] = types.has("array")
      ? values.map((v) => coerceScalar(v, typesOf(document, itemsOf(document, properties[key]))))
      : coerceScalar(values[0]!, types);
  }
  return out;
}

/**
 * A message body as validateRequest/validateResponse expect it: parsed JSON for a JSON media type, the text
 * otherwise, undefined when empty; JSON that does not parse is a body violation.
 */
export function bodyValue(text: string, contentType: string | null | undefined): { value: unknown } | { error: Violation } {
  if (text === "") return { value: undefined };
  if (!contentType || !isJsonMediaType(contentType)) return { value: text };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: { in: "body", pointer: "", message: `the ${contentType} body is not valid JSON` } };
  }
}

/** `body/projects/0/projectId: must be string` — one line per violation. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.in}${v.pointer}: ${v.message}`).join("\n");
}
