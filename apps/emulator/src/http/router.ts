// Operations are registered by operationId with their OpenAPI path template and their zod input schemas, so
// that (1) the set of served operations can be compared with the contract, (2) the input schemas can be checked
// against the contract's (test/request-schemas.test.ts), and (3) auth, job-token scope, strict response checks
// and fault injection can all key on the operationId.
import type { Hono } from "hono";
import type { z } from "zod";
import { type AuthMode, authenticate, type JobTokenScope } from "./auth.js";
import type { AppContext, AppEnv } from "./env.js";
import { jsonBody, queryParams } from "./validation.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface OperationInput<B, Q> {
  body: B;
  query: Q;
}

export interface OperationSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  operationId: string;
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
  handler: (c: AppContext, input: OperationInput<z.output<B>, z.output<Q>>) => Response | Promise<Response>;
}

/** Runs around an operation once its operationId is set, before it authenticates (fault injection). */
export type OperationAround = (c: AppContext, op: OperationSpec, run: () => Promise<Response>) => Promise<Response>;

export class OperationRegistry {
  readonly operations: OperationSpec[] = [];
  /** Set before mount(): wraps every operation (see faults/api-faults.ts). */
  around: OperationAround | undefined;

  add<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: OperationSpec<B, Q>): void {
    if (this.operations.some((o) => o.operationId === spec.operationId)) {
      throw new Error(`operation ${spec.operationId} is registered twice`);
    }
    this.operations.push(spec as unknown as OperationSpec);
  }

  /** Mounts every operation on `app` under `prefix` ("" or "/api/v1"). */
  mount(app: Hono<AppEnv>, prefix: string): void {
    // Paths with fewer parameters first, so a literal segment wins over a parameter on the same level.
    const ordered = [...this.operations].sort((a, b) => paramCount(a.path) - paramCount(b.path));
    for (const op of ordered) {
      const honoPath = prefix + op.path.replace(/\{([^}]+)\}/g, (_, name: string) => (op.pathPatterns?.[name] ? `:${name}{${op.pathPatterns[name]}}` : `:${name}`));
      const around = this.around;
      app.on(op.method, honoPath, async (c) => {
        c.set("operationId", op.operationId);
        const run = async () => {
          await authenticate(c, op.auth ?? "bearer", op.jobToken);
          const query = op.query ? queryParams(c, op.query, op.arrayQuery) : undefined;
          const body = op.body ? await jsonBody(c, op.body) : undefined;
          return op.handler(c, { body, query });
        };
        return around ? around(c, op, run) : run();
      });
    }
  }
}

function paramCount(path: string): number {
  return (path.match(/\{/g) ?? []).length;
}
