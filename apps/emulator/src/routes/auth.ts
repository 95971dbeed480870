// Token resource: JWKS, the key → token exchange (and its OAuth2 twin), and the two "who am I" operations.
import { z } from "zod";
import { TokenError } from "../auth/tokens.js";
import type { UserRow, WorkspaceRow } from "../db/repositories/identity.js";
import { claimsFor, type IssuedToken, issueAccessToken, userDefinedClaims } from "../domain/tokens.js";
import { ApiError, unauthorized } from "../errors.js";
import { credential } from "../http/auth.js";
import type { AppContext } from "../http/env.js";
import type { HtcApi } from "../http/router.js";

export function registerAuthRoutes(api: HtcApi): void {
  api.add({
    operationId: "getJwks",
    method: "GET",
    path: "/.well-known/jwks.json",
    auth: "none",
    handler: (c) => c.get("core").tokens.jwks,
  });

  api.add({
    operationId: "getToken",
    method: "GET",
    path: "/auth/token",
    auth: "none",
    handler: (c) => exchange(c, c.req.header("authorization")),
  });

  api.add({
    operationId: "getTokenWhoAmI",
    method: "GET",
    path: "/auth/token/whoami",
    jobToken: "any",
    handler: (c) => c.get("principal").token!.claims,
  });

  api.add({
    operationId: "whoAmI",
    method: "GET",
    path: "/auth/whoami",
    auth: "apiKey",
    handler: (c) => {
      const { user, workspace } = c.get("principal");
      return { user: rescaleUser(user, workspace), userFeatures: { count: 0, results: [] } };
    },
  });

  api.add({
    operationId: "createOAuth2Token",
    method: "POST",
    path: "/oauth2/token",
    auth: "none",
    handler: async (c) => {
      const form = await readForm(c);
      const grant = form.get("grant_type") ?? (form.size === 0 ? "client_credentials" : undefined);
      if (!grant) throw oauthError("invalid_request", "grant_type is required.");
      if (grant !== "client_credentials") {
        throw oauthError("unsupported_grant_type", "Only the client_credentials grant is supported.");
      }
      const secret = form.get("client_secret") ?? credential(c.req.header("authorization"), "token");
      if (!secret) throw oauthError("invalid_client", "Send the API key as client_secret or as 'Authorization: Token <key>'.");
      const core = c.get("core");
      const user = core.repos.identity.userByApiKey(secret);
      if (!user) throw oauthError("invalid_client", "The API key is not recognised.");
      const workspace = core.repos.identity.workspace(user.workspace_id)!;
      const { tokenValue, expiresIn } = await issueAccessToken(core, claimsFor(user, workspace), core.options.tokenLifetimeSeconds);
      return { access_token: tokenValue, token_type: "Bearer", expires_in: expiresIn };
    },
  });
}

/** `Authorization: Token <apiKey>` or `Authorization: Refresh <refreshToken>` → a fresh bearer token. */
async function exchange(c: AppContext, header: string | undefined): Promise<IssuedToken> {
  const core = c.get("core");
  const { tokens, repos, options } = core;
  const apiKey = credential(header, "token");
  if (apiKey) {
    const member = repos.identity.memberByApiKey(apiKey);
    if (!member) throw unauthorized("The API key is not recognised.");
    return issueAccessToken(core, claimsFor(member.user, member.workspace), options.tokenLifetimeSeconds);
  }
  const refresh = credential(header, "refresh");
  if (refresh) {
    let verified: Awaited<ReturnType<typeof tokens.verify>>;
    try {
      verified = await tokens.verify(refresh);
    } catch (error) {
      if (error instanceof TokenError) throw unauthorized(`Refresh token refused: ${error.message}`);
      throw error;
    }
    if (verified.kind !== "refresh") throw unauthorized("Only a refresh token can be exchanged with 'Refresh'.");
    const user = repos.identity.user(verified.claims.sub);
    if (!user) throw unauthorized("The refresh token's user no longer exists.");
    const workspace = repos.identity.workspace(user.workspace_id)!;
    return issueAccessToken(
      core,
      claimsFor(user, workspace, userDefinedClaims(verified.claims)),
      options.tokenLifetimeSeconds,
      verified.job,
    );
  }
  throw unauthorized("Send 'Authorization: Token <apiKey>' or 'Authorization: Refresh <refreshToken>'.");
}

export function rescaleUser(user: UserRow, workspace: WorkspaceRow) {
  const flags = {
    rescaleAdmin: user.is_rescale_admin === 1,
    organizationAdmin: user.is_organization_admin === 1,
    workspaceAdmin: user.is_workspace_admin === 1,
    superuser: user.is_superuser === 1,
  };
  return {
    userId: user.id,
    email: user.email,
    fullName: user.full_name,
    isRescaleAdmin: flags.rescaleAdmin,
    isOrganizationAdmin: flags.organizationAdmin,
    isWorkspaceAdmin: flags.workspaceAdmin,
    isSuperuser: flags.superuser,
    ...flags,
    workspace: { id: workspace.id, name: workspace.name },
    organization: workspace.organization_code
      ? { code: workspace.organization_code, canViewOrganizationJobs: flags.organizationAdmin }
      : null,
  };
}

async function readForm(c: AppContext): Promise<Map<string, string>> {
  const text = await c.req.text();
  const type = c.req.header("content-type") ?? "";
  const form = new Map<string, string>();
  if (!text.trim()) return form;
  if (type.includes("application/json")) {
    const parsed = z.record(z.string(), z.string()).safeParse(safeJson(text));
    if (!parsed.success) throw oauthError("invalid_request", "The body must be a form or a JSON object of strings.");
    for (const [k, v] of Object.entries(parsed.data)) form.set(k, v);
    return form;
  }
  for (const [k, v] of new URLSearchParams(text)) form.set(k, v);
  return form;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function oauthError(error: string, errorDescription: string): ApiError {
  return new ApiError(400, { error, errorDescription });
}
