// Issues and verifies the emulator's JWTs (RS256, via jose). Three kinds share one key:
//   access  - the bearer token of `GET /auth/token` (header typ "JWT");
//   job     - an access token for a running job, with reduced scope and the job's user-defined claims;
//   refresh - exchanged at `GET /auth/token` with `Authorization: Refresh <token>` (header typ "htc-refresh+jwt").
// Verified tokens are cached until they expire: signature checks would otherwise dominate every request.
import { decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import type { Clock } from "../clock.js";
import type { Sent } from "../contract-types.js";
import type { SigningKey } from "./keys.js";

export const ISSUER = "htc-emulator";
const REFRESH_TYP = "htc-refresh+jwt";

/** What a job token is allowed to act on. */
export interface JobScope {
  projectId: string;
  taskId: string;
  jobId: string;
}

/** A verified token's payload (`HTCTokenPayload`, what `GET /auth/token/whoami` answers): every claim present. */
export type TokenClaims = Sent<"HTCTokenPayload">;

/** The claims that describe the token's owner (and user-defined ones); the registered claims are added when signing. */
export type SubjectClaims = Pick<
  TokenClaims,
  "sub" | "userFullName" | "userEmail" | "workspaceName" | "workspaceId" | "organizationCode" | "groups"
> &
  Record<string, unknown>;

export interface VerifiedToken {
  kind: "access" | "job" | "refresh";
  claims: TokenClaims;
  job?: JobScope;
}

export type TokenFailure = "malformed" | "expired" | "foreign" | "wrong-kind";

export class TokenError extends Error {
  constructor(readonly reason: TokenFailure) {
    super(
      {
        malformed: "The bearer token is malformed.",
        expired: "The bearer token has expired.",
        foreign: "The bearer token was not issued by this server.",
        "wrong-kind": "This kind of token cannot be used here.",
      }[reason],
    );
  }
}

const CACHE_LIMIT = 10_000;

export class TokenService {
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(
    private readonly key: SigningKey,
    private readonly clock: Clock,
  ) {}

  get jwks(): Sent<"JsonWebKeySet"> {
    return { keys: [this.key.publicJwk] };
  }

  /** Signs a token carrying `claims` (minus the registered ones, which are set here) for `lifetimeSeconds`. */
  async sign(kind: VerifiedToken["kind"], subject: SubjectClaims, lifetimeSeconds: number, job?: JobScope): Promise<string> {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    const { sub, ...rest } = subject;
    const payload: Record<string, unknown> = { ...rest };
    if (job) payload["htcJob"] = job;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "RS256", kid: this.key.kid, typ: kind === "refresh" ? REFRESH_TYP : "JWT" })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + lifetimeSeconds)
      .sign(this.key.privateKey);
  }

  /**
   * The token each connection last presented, verified. A client sends the same token request after request on
   * a kept-alive connection, and comparing it with the last one costs far less than finding a fresh copy of a
   * long string in `cache` (which hashes all of it, several microseconds per request).
   */
  private lastOfConnection = new WeakMap<object, { token: string; verified: VerifiedToken }>();

  /**
   * A token verified before, without waiting: undefined when it has to be verified (`verify`). Throws when it
   * has expired since. `connection` (the request's socket) lets a connection's repeated token be found quickly.
   */
  verifiedBefore(token: string, connection?: object): VerifiedToken | undefined {
    const last = connection && this.lastOfConnection.get(connection);
    let cached: VerifiedToken | undefined;
    if (last && last.token === token) cached = last.verified;
    else {
      cached = this.cache.get(token);
      if (cached && connection) this.lastOfConnection.set(connection, { token, verified: cached });
    }
    if (cached && cached.claims.exp * 1000 <= this.clock.now()) throw new TokenError("expired");
    return cached;
  }

  async verify(token: string): Promise<VerifiedToken> {
    const cached = this.verifiedBefore(token);
    if (cached) return cached;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenError("malformed");
    }
    if (header.kid !== this.key.kid || header.alg !== "RS256") throw new TokenError("foreign");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key.publicKey, {
        algorithms: ["RS256"],
        issuer: ISSUER,
        currentDate: new Date(this.clock.now()),
      }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ERR_JWT_EXPIRED") throw new TokenError("expired");
      if (code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") throw new TokenError("foreign");
      throw new TokenError("malformed");
    }
    const { htcJob, ...claims } = payload as TokenClaims & { htcJob?: JobScope };
    const verified: VerifiedToken = {
      kind: header.typ === REFRESH_TYP ? "refresh" : htcJob ? "job" : "access",
      claims: claims as TokenClaims,
      ...(htcJob ? { job: htcJob } : {}),
    };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, verified);
    return verified;
  }

  /** Forgets verified tokens, e.g. after a reset removed the users they belong to. */
  clearCache(): void {
    this.cache.clear();
    this.lastOfConnection = new WeakMap();
  }
}
