// Operations are registered by operationId with their OpenAPI path template and their zod input schemas, so
// that (1) the set of served operations can be compared with the contract, (2) the input schemas can be checked
// against the contract's (test/request-schemas.test.ts), (3) auth, job-token scope, strict response checks,
// fault injection and metrics can all key on the operationId, and (4) a handler returns the body of the
// operation's success response as the contract's generated types declare it, so drift fails the type check.
// The HTC API and the emulator's admin API are served the same way, each by its own registry.
import type { Hono } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { AllPresent, adminOperations, operations, Readable } from "../contract-types.js";
import { isImmutable } from "../immutable.js";
import { isSecretMember } from "../inspector/redact.js";
import { type AuthMode, authenticate, type JobTokenScope } from "./auth.js";
import type { AppContext, AppEnv, Exchange, ServedOperation } from "./env.js";
import type { OperationFrame } from "./frame.js";
import { jsonBody, queryParams } from "./validation.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface OperationInput<B, Q> {
  body: B;
  query: Q;
}

type SuccessCode = 200 | 201 | 202 | 204;

/** The success status an operation declares (every operation of both APIs declares exactly one). */
export type SuccessStatus<Op> = Op extends { responses: infer R } ? Extract<keyof R, SuccessCode> : never;

type ContentBody<C, Complete extends boolean> = C extends { "application/json": infer B }
  ? Complete extends true
    ? AllPresent<Readable<B>>
    : Readable<B>
  : C extends { "text/plain": unknown }
    ? string
    : C extends { "application/octet-stream": unknown }
      ? Response
      : C extends { "text/event-stream": unknown }
        ? Response
        : never;

/**
 * What a handler returns: the body of the operation's success response. JSON bodies as the contract's schema
 * says (readOnly members included; for an API whose responses carry every declared member, `Complete`, with
 * every member present), text as a string, binary content as a whole Response; operations whose success
 * response has no body return nothing.
 */
export type SuccessBody<Op, Complete extends boolean = false> = Op extends { responses: infer R }
  ? R[SuccessStatus<Op> & keyof R] extends { content: infer C }
    ? ContentBody<C, Complete>
    : // biome-ignore lint/suspicious/noConfusingVoidType: a handler of an operation without a response body returns nothing
      void
  : never;

type MaybePromise<T> = T | Promise<T>;

interface OperationShape<B extends z.ZodType, Q extends z.ZodType> {
  method: HttpMethod;
  /** The path as the contract writes it, e.g. `/htc/projects/{projectId}`. */
  path: string;
  /**
   * Path parameters matched by a regular expression instead of one segment, e.g. `{ imageName: ".+" }` for a last
   * parameter that may contain raw `/`.
   */
  pathPatterns?: Record<string, string>;
  /** `bearer` (default): a bearer token; `apiKey`: `Authorization: Token <key>`; `none`: public. */
  auth?: AuthMode;
  /** What a job token may do here; job tokens are refused (403) unless this says otherwise. */
  jobToken?: JobTokenScope;
  /** The JSON request body; without it the body is not read. */
  body?: B;
  /** The query parameters (each key's first value, or all distinct values for keys listed in `arrayQuery`). */
  query?: Q;
  arrayQuery?: readonly string[];
}

/** An operation as a route file registers it: typed by the operations map `Ops` of its API. */
export type OperationSpec<
  Ops,
  Id extends keyof Ops,
  B extends z.ZodType,
  Q extends z.ZodType,
  Complete extends boolean = false,
> = OperationShape<B, Q> & {
  operationId: Id;
  handler: (c: AppContext, input: OperationInput<z.output<B>, z.output<Q>>) => MaybePromise<SuccessBody<Ops[Id], Complete>>;
} & (SuccessStatus<Ops[Id]> extends 200 ? { status?: 200 } : { status: SuccessStatus<Ops[Id]> });

/** An operation as the registry keeps it. */
export interface RegisteredOperation extends OperationShape<z.ZodType, z.ZodType> {
  operationId: string;
  /** The success status. */
  status: number;
  handler: (c: AppContext, input: OperationInput<unknown, unknown>) => unknown;
}

/** Runs around an operation once its operationId is set, before it authenticates (fault injection). */
export type OperationAround = (
  c: AppContext,
  op: RegisteredOperation,
  run: (c: AppContext) => Response | Promise<Response>,
) => Response | Promise<Response>;

/**
 * The operations of one API. `Complete`: its handlers must return bodies with every declared member present
 * (the HTC API, shaped like production's); the admin API is held only to its schemas.
 */
export class OperationRegistry<Ops, Complete extends boolean = false> {
  readonly operations: RegisteredOperation[] = [];

  /**
   * @param api Which API the operations belong to (strict checks, faults and metrics look it up).
   * @param around Wraps every operation (see faults/api-faults.ts).
   */
  constructor(
    readonly api: ServedOperation["api"],
    private readonly around?: OperationAround,
  ) {}

  add<Id extends keyof Ops & string, B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(
    spec: OperationSpec<Ops, Id, B, Q, Complete>,
  ): void {
    if (this.operations.some((o) => o.operationId === spec.operationId)) {
      throw new Error(`operation ${spec.operationId} is registered twice`);
    }
    this.operations.push({ ...(spec as unknown as RegisteredOperation), status: spec.status ?? 200 });
  }

  /**
   * Mounts every operation on `app` under `prefix` ("" or "/api/v1" for the HTC API, "/_emulator/v1" for admin),
   * each as its route's only handler, run inside `frame` (see frame.ts).
   */
  mount(app: Hono<AppEnv>, prefix: string, frame: OperationFrame = (c, _operation, run) => run(c)): void {
    // Paths with fewer parameters first, so a literal segment wins over a parameter on the same level.
    const ordered = [...this.operations].sort((a, b) => paramCount(a.path) - paramCount(b.path));
    const around = this.around;
    for (const op of ordered) {
      const honoPath =
        prefix +
        op.path.replace(/\{([^}]+)\}/g, (_, name: string) => (op.pathPatterns?.[name] ? `:${name}{${op.pathPatterns[name]}}` : `:${name}`));
      const secretParams = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).filter(isSecretMember);
      const served: ServedOperation = Object.freeze({
        operationId: op.operationId,
        api: this.api,
        ...(secretParams.length ? { secretParams } : {}),
      });
      const auth = op.auth ?? "bearer";
      // Synchronous from start to answer unless a step has to wait (a token not verified before, a request
      // body, an asynchronous handler): each await would cost the hot path (cached-token reads) a turn.
      const handle = (c: AppContext): Response | Promise<Response> => {
        const query = op.query ? queryParams(c, op.query, op.arrayQuery) : undefined;
        if (op.body) return jsonBody(c, op.body).then((body) => answer(c, op, op.handler(c, { body, query })));
        return answer(c, op, op.handler(c, { body: undefined, query }));
      };
      const run = (c: AppContext): Response | Promise<Response> => {
        const authenticated = authenticate(c, auth, op.jobToken);
        return authenticated ? authenticated.then(() => handle(c)) : handle(c);
      };
      const operate = around ? (c: AppContext) => around(c, op, run) : run;
      app.on(op.method, honoPath, (c) => {
        c.set("operation", served);
        return frame(c, served, operate);
      });
    }
  }
}

function answer(c: AppContext, op: RegisteredOperation, result: unknown): Response | Promise<Response> {
  return result instanceof Promise ? result.then((value) => respond(c, op.status, value)) : respond(c, op.status, result);
}

/** The HTTP answer of a handler's result (see SuccessBody). */
function respond(c: AppContext, status: number, result: unknown): Response {
  const exchange = c.get("exchange");
  if (exchange !== undefined) return respondRecorded(c, status, result, exchange);
  if (result instanceof Response) return result;
  if (result === undefined) return c.body(null, status as StatusCode);
  // Text is text/plain unless the handler set another Content-Type.
  if (typeof result === "string") return c.body(result, status as ContentfulStatusCode);
  // A fresh header object each time: the Node adapter adds Content-Length to the one it is given.
  if (isImmutable(result)) return c.body(jsonText(result), status as ContentfulStatusCode, { "Content-Type": "application/json" });
  return c.json(result, status as ContentfulStatusCode);
}

/** `respond()` while the request inspector records: the text sent is handed to it, so it never reads a body back. */
function respondRecorded(c: AppContext, status: number, result: unknown, exchange: Exchange): Response {
  if (result instanceof Response) {
    exchange.stream = true;
    return result;
  }
  if (result === undefined) {
    exchange.responseText = "";
    return c.body(null, status as StatusCode);
  }
  if (typeof result === "string") {
    exchange.responseText = result;
    return c.body(result, status as ContentfulStatusCode);
  }
  const text = isImmutable(result) ? jsonText(result) : JSON.stringify(result);
  exchange.responseText = text;
  exchange.responseType = "application/json";
  return c.body(text, status as ContentfulStatusCode, { "Content-Type": "application/json" });
}

/** The JSON of immutable results (see immutable.ts), made once each. */
const jsonTexts = new WeakMap<object, string>();

function jsonText(value: object): string {
  let text = jsonTexts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    jsonTexts.set(value, text);
  }
  return text;
}

function paramCount(path: string): number {
  return (path.match(/\{/g) ?? []).length;
}

/** The registries of the two APIs. */
export type HtcApi = OperationRegistry<operations, true>;
export type AdminApi = OperationRegistry<adminOperations>;
