// The claims the emulator's tokens carry, and the exchange rules of `GET /auth/token` and `POST /oauth2/token`.
import type { UserRow, WorkspaceRow } from "../db/repositories/identity.js";
import type { JobScope, SubjectClaims, TokenClaims } from "../auth/tokens.js";
import type { adminOperations, Sent } from "../contract-types.js";
import type { Core } from "../core.js";
import { rolesOf } from "./identity.js";

const TOKENS_ISSUED = "htc_tokens_issued_total";

/** `HTCToken`: a bearer token and its lifetime. */
export type IssuedToken = Sent<"HTCToken">;

/** What a running job receives (and the admin API's `createJobToken` answers). */
export type JobTokens = adminOperations["createJobToken"]["responses"][201]["content"]["application/json"];

/** Refresh tokens live long: they stand for a key that is not available (inside a job). */
export const REFRESH_LIFETIME_SECONDS = 30 * 24 * 3600;

export function claimsFor(user: UserRow, workspace: WorkspaceRow, userDefined: Record<string, string> = {}): SubjectClaims {
  const claims: SubjectClaims = {
    sub: user.id,
    userFullName: user.full_name,
    userEmail: user.email,
    workspaceName: workspace.name,
    workspaceId: workspace.id,
    organizationCode: workspace.organization_code,
    groups: rolesOf(user),
  };
  for (const [name, value] of Object.entries(userDefined)) claims[`userDefined_${name}`] = value;
  return claims;
}

/** Issues an access token (a job token when `job` is given) and returns it with its lifetime. */
export async function issueAccessToken(
  s: Pick<Core, "tokens" | "counters">,
  claims: SubjectClaims,
  lifetimeSeconds: number,
  job?: JobScope,
): Promise<IssuedToken> {
  const kind = job ? "job" : "access";
  const tokenValue = await s.tokens.sign(kind, claims, lifetimeSeconds, job);
  s.counters.inc(claims.workspaceId, TOKENS_ISSUED, { kind });
  return { tokenValue, expiresIn: lifetimeSeconds };
}

/** The user-defined claims (`userDefined_<name>`) carried by a verified token, without the prefix. */
export function userDefinedClaims(claims: TokenClaims): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(claims)) {
    if (key.startsWith("userDefined_") && typeof value === "string") result[key.slice("userDefined_".length)] = value;
  }
  return result;
}

/** The bearer and refresh tokens a running job receives (`RESCALE_HTC_BEARER_TOKEN`, `RESCALE_HTC_REFRESH_TOKEN`). */
export async function issueJobTokens(
  s: Pick<Core, "repos" | "options" | "tokens" | "counters">,
  user: UserRow,
  job: JobScope,
  userDefined: Record<string, string>,
): Promise<JobTokens> {
  const workspace = s.repos.identity.workspace(user.workspace_id)!;
  const claims = claimsFor(user, workspace, userDefined);
  const lifetime = s.options.tokenLifetimeSeconds;
  const bearerToken = await s.tokens.sign("job", claims, lifetime, job);
  const refreshToken = await s.tokens.sign("refresh", claims, REFRESH_LIFETIME_SECONDS, job);
  // Only the bearer token counts: the refresh token is exchanged for bearer tokens, which count when issued.
  s.counters.inc(workspace.id, TOKENS_ISSUED, { kind: "job" });
  return { bearerToken, refreshToken, expiresIn: lifetime, jobId: job.jobId };
}
