// Authentication of every operation: who is calling (a user with a bearer token, a running job with its job
// token, or an API key on the two key-authenticated operations), and whether a job token may act here.
import { type JobScope, TokenError, type VerifiedToken } from "../auth/tokens.js";
import type { Principal } from "../domain/principal.js";
import { forbidden, unauthorized } from "../errors.js";
import type { AppContext } from "./env.js";
import { requestConnection, requestHeader } from "./headers.js";

export type AuthMode = "bearer" | "apiKey" | "none";

/**
 * Where a job token is accepted: `self` means the path's project (and task, when the path has one) must be the
 * job's own; `any` allows it everywhere the operation is otherwise allowed.
 */
export type JobTokenScope = "self" | "any";

/**
 * Sets the caller (`principal`) or throws 401/403. Synchronous when the bearer token was verified before (the
 * common case); a promise only when a token's signature has to be checked.
 */
export function authenticate(c: AppContext, mode: AuthMode, jobScope?: JobTokenScope): void | Promise<void> {
  if (mode === "none") return;
  const header = requestHeader(c, "authorization");
  const core = c.get("core");
  if (mode === "apiKey") {
    const key = credential(header, "token");
    if (!key) throw unauthorized("Send the API key as 'Authorization: Token <apiKey>'.");
    const member = core.repos.identity.memberByApiKey(key);
    if (!member) throw unauthorized("The API key is not recognised.");
    c.set("principal", { user: member.user, workspace: member.workspace });
    return;
  }
  const token = credential(header, "bearer");
  if (!token) {
    throw unauthorized(
      credential(header, "token")
        ? "This operation needs a bearer token: exchange the API key at GET /auth/token first."
        : "Send a bearer token as 'Authorization: Bearer <token>' (from GET /auth/token).",
    );
  }
  let known: VerifiedToken | undefined;
  try {
    known = core.tokens.verifiedBefore(token, requestConnection(c));
  } catch (error) {
    throw refusal(error);
  }
  if (known) return admit(c, known, jobScope);
  return core.tokens.verify(token).then(
    (verified) => admit(c, verified, jobScope),
    (error: unknown) => {
      throw refusal(error);
    },
  );
}

/** A token check's failure as the answer: TokenErrors are 401s, anything else stays what it is. */
function refusal(error: unknown): unknown {
  return error instanceof TokenError ? unauthorized(error.message) : error;
}

/** The caller of a verified token: its user must still exist, in the workspace the token names. */
function admit(c: AppContext, verified: VerifiedToken, jobScope: JobTokenScope | undefined): void {
  if (verified.kind === "refresh") {
    throw unauthorized("A refresh token cannot authorize requests; exchange it at GET /auth/token.");
  }
  const member = c.get("core").repos.identity.member(verified.claims.sub);
  if (!member || member.user.workspace_id !== verified.claims.workspaceId) {
    throw unauthorized("The bearer token's user no longer exists.");
  }
  const principal: Principal = { user: member.user, workspace: member.workspace, token: verified };
  if (verified.job) {
    principal.job = verified.job;
    checkJobScope(c, verified.job, jobScope);
  }
  c.set("principal", principal);
}

function checkJobScope(c: AppContext, job: JobScope, scope: JobTokenScope | undefined): void {
  if (!scope) throw forbidden(`A job token may not call ${c.get("operation").operationId}.`);
  if (scope === "any") return;
  const projectId = c.req.param("projectId");
  const taskId = c.req.param("taskId");
  if ((projectId && projectId !== job.projectId) || (taskId && taskId !== job.taskId)) {
    throw forbidden("A job token may only reach its own project and task.");
  }
}

/** The credential of `Authorization: <scheme> <value>`, if the header uses that scheme (case-insensitive). */
export function credential(header: string | undefined, scheme: string): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme) return undefined;
  const value = header.slice(space + 1).trim();
  return value || undefined;
}
