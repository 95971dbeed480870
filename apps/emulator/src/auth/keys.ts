// The RSA key that signs bearer tokens. Generated once and kept in the database, so tokens issued before a restart
// stay valid after it; its public half is published as the JWKS.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import type { Sent } from "../contract-types.js";
import type { Db } from "../db/database.js";
import { MetaRepository } from "../db/repositories/meta.js";
import { newUuid } from "../domain/ids.js";

const generateKeyPairAsync = promisify(generateKeyPair);

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as a JWK with `kid`, `alg`, `use`. */
  publicJwk: Sent<"JsonWebKey">;
}

/**
 * RSA key generation costs 100-300 ms, most of an in-memory emulator's start-up. The key material is generated
 * once per process and shared by the emulators created afterwards; each emulator still gets its own `kid`, and a
 * token whose `kid` is not the emulator's own is refused before its signature is checked, so tokens never cross
 * from one emulator to another. (A data dir keeps whatever key it was given first.)
 */
let processKey: Promise<KeyObject> | undefined;

function sharedPrivateKey(): Promise<KeyObject> {
  processKey ??= generateKeyPairAsync("rsa", { modulusLength: 2048 }).then(({ privateKey }) => privateKey);
  return processKey;
}

export async function loadOrCreateSigningKey(db: Db, now: number): Promise<SigningKey> {
  const meta = new MetaRepository(db);
  const row = meta.latestSigningKey();
  if (row) return fromPrivateJwk(row.kid, JSON.parse(row.private_jwk));
  const privateKey = await sharedPrivateKey();
  const kid = newUuid();
  const key = fromPrivateJwk(kid, privateKey.export({ format: "jwk" }) as Record<string, unknown>);
  meta.insertSigningKey({
    kid,
    private_jwk: JSON.stringify(privateKey.export({ format: "jwk" })),
    public_jwk: JSON.stringify(key.publicJwk),
    created_at: now,
  });
  return key;
}

function fromPrivateJwk(kid: string, jwk: Record<string, unknown>): SigningKey {
  const privateKey = createPrivateKey({ key: jwk as never, format: "jwk" });
  const publicKey = createPublicKey(privateKey);
  const { n, e, kty } = publicKey.export({ format: "jwk" }) as { n: string; e: string; kty: string };
  return { kid, privateKey, publicKey, publicJwk: { kty, kid, use: "sig", alg: "RS256", n, e } };
}
