// The OpenAPI document flattened into operations: `$ref`s to shared parameters, request bodies and responses are
// resolved here once, and each schema keeps its JSON pointer so the validator can reference it inside the
// document registered in ajv. Plain data and lookups only: validation (validate.ts) and the assembled
// contract (contract.ts) build on it.
import { normalizeMediaType } from "./media-type.js";
import { escapePointer, isObject, resolvePointer } from "./schemas.js";

export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, unknown> };

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** A schema found in the document, with where it is (to compile it by reference). */
export interface SchemaLocation {
  readonly schema: unknown;
  /** JSON pointer of the schema inside the document, e.g. `/components/parameters/PageSize/schema`. */
  readonly pointer: string;
}

export interface ParameterSpec {
  readonly name: string;
  readonly in: "path" | "query" | "header" | "cookie";
  readonly required: boolean;
  readonly style: string;
  readonly explode: boolean;
  readonly schema?: SchemaLocation;
}

export interface ContentSpec {
  /** Media types as declared (lower case, no parameters) → their schema, if any. */
  readonly content: Readonly<Record<string, SchemaLocation | undefined>>;
}

export interface RequestBodySpec extends ContentSpec {
  readonly required: boolean;
}

export interface ResponseSpec extends ContentSpec {
  /** The key in `responses`: `200`, `4XX` or `default`. */
  readonly status: string;
}

export interface Operation {
  readonly operationId: string;
  /** Upper case: `GET`, `POST`, … */
  readonly method: string;
  /** The path template, without the `/api/v1` prefix: `/htc/projects/{projectId}`. */
  readonly path: string;
  readonly parameters: readonly ParameterSpec[];
  readonly requestBody?: RequestBodySpec;
  readonly responses: Readonly<Record<string, ResponseSpec>>;
  /** The raw operation object of the document. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface OperationMatch {
  readonly operation: Operation;
  /** Decoded path parameters. */
  readonly params: Record<string, string>;
}

/** What validation needs of a contract: its document and how to find an operation. */
export interface OperationIndex {
  readonly document: OpenApiDocument;
  findOperation(operationId: string): Operation | undefined;
  /** The operation a request goes to (path with or without `/api/v1`, query string ignored). */
  match(method: string, path: string): OperationMatch | undefined;
  /** The methods declared for a concrete path; empty when the path matches no template. */
  methodsAt(path: string): string[];
}

export function extractOperations(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  const seen = new Set<string>();
  for (const [path, rawItem] of Object.entries(document.paths)) {
    const itemPointer = `/paths/${escapePointer(path)}`;
    const item = deref(document, rawItem, itemPointer);
    if (!isObject(item.value)) continue;
    const shared = parameterList(document, item.value["parameters"], `${item.pointer}/parameters`);
    for (const method of HTTP_METHODS) {
      const op = item.value[method];
      if (!isObject(op)) continue;
      const operationId = typeof op["operationId"] === "string" ? op["operationId"] : `${method.toUpperCase()} ${path}`;
      if (seen.has(operationId)) throw new Error(`duplicate operationId: ${operationId}`);
      seen.add(operationId);
      const opPointer = `${item.pointer}/${method}`;
      const own = parameterList(document, op["parameters"], `${opPointer}/parameters`);
      // Operation-level parameters override path-level ones with the same name and location.
      const parameters = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
      operations.push({
        operationId,
        method: method.toUpperCase(),
        path,
        parameters,
        ...requestBodyOf(document, op["requestBody"], `${opPointer}/requestBody`),
        responses: responsesOf(document, op["responses"], `${opPointer}/responses`),
        raw: op,
      });
    }
  }
  return operations;
}

function parameterList(document: OpenApiDocument, list: unknown, pointer: string): ParameterSpec[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((raw, index) => {
    const { value, pointer: at } = deref(document, raw, `${pointer}/${index}`);
    if (!isObject(value) || typeof value["name"] !== "string") return [];
    const location = value["in"] as ParameterSpec["in"];
    const style = typeof value["style"] === "string" ? value["style"] : location === "query" || location === "cookie" ? "form" : "simple";
    const explode = typeof value["explode"] === "boolean" ? value["explode"] : style === "form";
    const schema = isObject(value["schema"]) ? { schema: value["schema"], pointer: `${at}/schema` } : undefined;
    return [
      {
        name: value["name"],
        in: location,
        required: value["required"] === true || location === "path",
        style,
        explode,
        ...(schema ? { schema } : {}),
      },
    ];
  });
}

function requestBodyOf(document: OpenApiDocument, raw: unknown, pointer: string): { requestBody?: RequestBodySpec } {
  if (raw === undefined) return {};
  const { value, pointer: at } = deref(document, raw, pointer);
  if (!isObject(value)) return {};
  return { requestBody: { required: value["required"] === true, content: contentOf(value["content"], `${at}/content`) } };
}

function responsesOf(document: OpenApiDocument, raw: unknown, pointer: string): Record<string, ResponseSpec> {
  const responses: Record<string, ResponseSpec> = {};
  if (!isObject(raw)) return responses;
  for (const [status, entry] of Object.entries(raw)) {
    const { value, pointer: at } = deref(document, entry, `${pointer}/${escapePointer(status)}`);
    if (!isObject(value)) continue;
    // `2xx` and `2XX` are the same range; `default` stays as written.
    const key = /^[1-5]xx$/i.test(status) ? status.toUpperCase() : status;
    responses[key] = { status: key, content: contentOf(value["content"], `${at}/content`) };
  }
  return responses;
}

function contentOf(raw: unknown, pointer: string): Record<string, SchemaLocation | undefined> {
  const content: Record<string, SchemaLocation | undefined> = {};
  if (!isObject(raw)) return content;
  for (const [mediaType, media] of Object.entries(raw)) {
    const schema = isObject(media) ? media["schema"] : undefined;
    content[normalizeMediaType(mediaType)] =
      schema === undefined ? undefined : { schema, pointer: `${pointer}/${escapePointer(mediaType)}/schema` };
  }
  return content;
}

/** Follows local `$ref`s of non-schema objects (parameters, responses, bodies, path items). */
function deref(document: OpenApiDocument, value: unknown, pointer: string): { value: unknown; pointer: string } {
  let current = value;
  let at = pointer;
  for (let hops = 0; hops < 10 && isObject(current) && typeof current["$ref"] === "string"; hops++) {
    const ref = current["$ref"];
    if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported: ${ref}`);
    at = decodeURIComponent(ref.slice(1));
    current = resolvePointer(document, ref);
    if (current === undefined) throw new Error(`unresolved $ref: ${ref}`);
  }
  return { value: current, pointer: at };
}
