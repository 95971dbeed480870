// Temporary storage credentials, STS-style: an access key id (`ASIA…`), a secret access key and a session token.
// Nothing is stored: the session token carries the scope (workspace, project, task or shared folder, region,
// user, expiry, and for presigned URLs the one object and method) and is authenticated by an HMAC under this
// emulator's storage secret (created by migration 3, kept in `meta`). The secret access key is derived from the
// session token by another HMAC, so the three parts only work together, and a restart keeps them valid.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "../db/database.js";
import { MetaRepository } from "../db/repositories/meta.js";
import { s3Errors } from "./errors.js";

/** What a set of credentials may reach. */
export interface StorageScope {
  workspaceId: string;
  projectId: string;
  /** The task whose folder the credentials reach; null for the project's shared folder. */
  taskId: string | null;
  userId: string;
  /** The Rescale region whose bucket the credentials address. */
  region: string;
  /** Milliseconds since the epoch (the emulator's clock). */
  expiresAt: number;
  /** Presigned URLs: the credentials reach this one object with this one method. */
  object?: { key: string; method: "GET" | "PUT" };
}

export interface StorageCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  scope: StorageScope;
}

const TOKEN_PREFIX = "HTCEMU1";
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

interface TokenPayload {
  v: 1;
  a: string;
  w: string;
  p: string;
  t: string | null;
  u: string;
  r: string;
  e: number;
  k?: string;
  m?: "GET" | "PUT";
}

export class CredentialAuthority {
  private readonly secret: Buffer;

  constructor(db: Db) {
    const secret = new MetaRepository(db).storageSecret();
    if (!secret) throw new Error("the storage secret is missing (migration 3 was not applied)");
    this.secret = Buffer.from(secret, "hex");
  }

  issue(scope: StorageScope): StorageCredentials {
    const accessKeyId = `ASIA${newKeyIdSuffix()}`;
    const payload: TokenPayload = {
      v: 1,
      a: accessKeyId,
      w: scope.workspaceId,
      p: scope.projectId,
      t: scope.taskId,
      u: scope.userId,
      r: scope.region,
      e: scope.expiresAt,
      ...(scope.object ? { k: scope.object.key, m: scope.object.method } : {}),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
    const sessionToken = `${TOKEN_PREFIX}.${body}.${this.mac("session-token", body).toString("base64url")}`;
    return { accessKeyId, secretAccessKey: this.secretFor(sessionToken), sessionToken, scope };
  }

  /**
   * The scope and secret of a session token presented with `accessKeyId`. Throws S3's InvalidToken for a token
   * this emulator did not issue and InvalidAccessKeyId when the key does not belong to the token. Expiry is left
   * to the caller, which knows the clock.
   */
  open(accessKeyId: string, sessionToken: string): { scope: StorageScope; secretAccessKey: string } {
    const parts = sessionToken.split(".");
    if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) throw s3Errors.invalidToken();
    const [, body, mac] = parts as [string, string, string];
    const expected = this.mac("session-token", body);
    const given = Buffer.from(mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw s3Errors.invalidToken();
    let payload: TokenPayload;
    try {
      payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenPayload;
    } catch {
      throw s3Errors.invalidToken();
    }
    if (payload.v !== 1) throw s3Errors.invalidToken();
    if (payload.a !== accessKeyId) throw s3Errors.invalidAccessKeyId();
    const scope: StorageScope = {
      workspaceId: payload.w,
      projectId: payload.p,
      taskId: payload.t,
      userId: payload.u,
      region: payload.r,
      expiresAt: payload.e,
      ...(payload.k !== undefined && payload.m ? { object: { key: payload.k, method: payload.m } } : {}),
    };
    return { scope, secretAccessKey: this.secretFor(sessionToken) };
  }

  private secretFor(sessionToken: string): string {
    return this.mac("secret-access-key", sessionToken).toString("base64").slice(0, 40);
  }

  private mac(purpose: string, data: string): Buffer {
    return createHmac("sha256", this.secret).update(`${purpose}\n${data}`).digest();
  }
}

function newKeyIdSuffix(): string {
  const bytes = randomBytes(16);
  let out = "";
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}
