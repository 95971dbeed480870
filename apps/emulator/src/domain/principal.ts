// Who is calling: a user of a workspace, authenticated by a bearer token, a job token or an API key (see
// http/auth.ts). Domain functions take it to decide what the caller may see and change.
import type { JobScope, VerifiedToken } from "../auth/tokens.js";
import type { UserRow, WorkspaceRow } from "../db/repositories/identity.js";

export interface Principal {
  /** Rows shared by the requests of this caller (see IdentityRepository.member): read, never change. */
  user: Readonly<UserRow>;
  workspace: Readonly<WorkspaceRow>;
  /** The verified bearer token, absent when the caller used an API key. */
  token?: VerifiedToken;
  /** Set when the caller is a running job. */
  job?: JobScope;
}
