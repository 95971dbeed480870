// Who may do what in the registry. Two kinds of secrets are involved:
//
// - The password of `docker login` (what `GET …/container-registry/token` returns): an opaque random string
//   (32 bytes, base64url), stored only as its SHA-256 hash with the project it opens, the user it was issued to and
//   its expiry (12 hours by the emulator's clock). It is not a JWT, so it can never be mistaken for a bearer token
//   of the HTC API, and it can be revoked by deleting its row.
// - The registry's bearer tokens, issued by the realm (`GET /_emulator/registry/token`) in exchange for that
//   password: JWTs signed with ES256 by a key whose self-signed certificate is the registry's `rootcertbundle`;
//   the certificate rides in the `x5c` header. They carry the docker token protocol's `access` claim and live a
//   few minutes of real time (the registry checks `exp` against its own clock, not the emulator's).
//
// A password opens exactly one project: the realm grants `pull`, `push` and `delete` on
// `rescale/<projectId>/<repo>` for repositories created in that project, and nothing anywhere else (the catalog
// included), so another project's images can be neither pulled nor overwritten with it.
import { createHash, createPrivateKey, type KeyObject, randomBytes, webcrypto } from "node:crypto";
import { SignJWT } from "jose";
import type { Clock } from "../clock.js";
import type { CredentialRow, RegistryRepository } from "../db/repositories/registry.js";
import { newUuid } from "../domain/ids.js";
import { fullRepositoryName, NAMESPACE, type Scope } from "./names.js";

/** How long a `docker login` password is accepted (the contract says 12 hours). */
export const PASSWORD_LIFETIME_SECONDS = 12 * 3600;
/** Lifetime of the registry's own bearer tokens, in real seconds (Docker renews them as needed). */
export const REGISTRY_TOKEN_LIFETIME_SECONDS = 300;
/** The `service` and `issuer` the registry is configured with. */
export const REGISTRY_SERVICE = "htc-emulator-registry";
export const REGISTRY_ISSUER = "htc-emulator-registry-token-issuer";
/** The user name `docker login` must use, as with Amazon ECR. */
export const REGISTRY_USERNAME = "AWS";

const ACTIONS = ["pull", "push", "delete"] as const;

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** The key and certificate that sign the registry's tokens, made once and kept in SQLite. */
export class RegistryTokenIssuer {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly certificateDer: Buffer,
    /** PEM of the certificate, for the registry's `rootcertbundle`. */
    readonly certificatePem: string,
  ) {}

  static async loadOrCreate(repo: RegistryRepository, now: number): Promise<RegistryTokenIssuer> {
    const stored = repo.issuer();
    if (stored) {
      const { privateKey, certificate, notAfter } = JSON.parse(stored) as { privateKey: string; certificate: string; notAfter: number };
      // Renewed well before it lapses; the registry reads the new one on its next start (which is every start).
      if (notAfter - now > 30 * 24 * 3600 * 1000) return RegistryTokenIssuer.from(privateKey, certificate);
    }
    const made = await makeIssuer(now);
    repo.setIssuer(JSON.stringify(made));
    return RegistryTokenIssuer.from(made.privateKey, made.certificate);
  }

  private static from(privateKeyB64: string, certificateB64: string): RegistryTokenIssuer {
    const privateKey = createPrivateKey({ key: Buffer.from(privateKeyB64, "base64"), format: "der", type: "pkcs8" });
    const der = Buffer.from(certificateB64, "base64");
    const pem = `-----BEGIN CERTIFICATE-----\n${der
      .toString("base64")
      .replace(/(.{64})/g, "$1\n")
      .replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
    return new RegistryTokenIssuer(privateKey, der, pem);
  }

  /** A registry bearer token for `subject` with `access`; times are real time (the registry's clock). */
  async sign(
    subject: string,
    access: AccessEntry[],
    lifetimeSeconds = REGISTRY_TOKEN_LIFETIME_SECONDS,
  ): Promise<{ token: string; issuedAt: Date; expiresIn: number }> {
    const issuedAt = new Date();
    const now = Math.floor(issuedAt.getTime() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: "ES256", typ: "JWT", x5c: [this.certificateDer.toString("base64")] })
      .setIssuer(REGISTRY_ISSUER)
      .setAudience(REGISTRY_SERVICE)
      .setSubject(subject)
      .setIssuedAt(now)
      // A little slack for clocks that disagree by a few seconds.
      .setNotBefore(now - 60)
      .setExpirationTime(now + lifetimeSeconds)
      .setJti(newUuid())
      .sign(this.privateKey);
    return { token, issuedAt, expiresIn: lifetimeSeconds };
  }
}

async function makeIssuer(now: number): Promise<{ privateKey: string; certificate: string; notAfter: number }> {
  // @peculiar/x509 needs the Reflect metadata polyfill; both are loaded only when a certificate is made.
  await import("reflect-metadata");
  const loaded: typeof import("@peculiar/x509") & { default?: typeof import("@peculiar/x509") } = await import("@peculiar/x509");
  // A CommonJS module: bundled into the htc-emulator command, its exports arrive as the default export only.
  const x509 = loaded.default ?? loaded;
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const notAfter = now + 10 * 365 * 24 * 3600 * 1000;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8)
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    name: "CN=htc-emulator registry token issuer",
    // Back-dated an hour: the registry compares validity with its own clock.
    notBefore: new Date(now - 3600 * 1000),
    notAfter: new Date(notAfter),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { privateKey: pkcs8.toString("base64"), certificate: Buffer.from(certificate.rawData).toString("base64"), notAfter };
}

function hashOf(password: string): string {
  return createHash("sha256").update(password).digest("hex");
}

/** The `docker login` passwords of the project registries. */
export class RegistryCredentials {
  constructor(
    private readonly repo: RegistryRepository,
    private readonly clock: Clock,
  ) {}

  /** A new password opening `projectId`'s registry, valid for 12 hours of the emulator's clock. */
  issue(projectId: string, userId: string, lifetimeSeconds = PASSWORD_LIFETIME_SECONDS): { password: string; expiresAt: number } {
    const now = this.clock.now();
    this.repo.pruneCredentials(now);
    const password = randomBytes(32).toString("base64url");
    const expiresAt = now + lifetimeSeconds * 1000;
    this.repo.insertCredential({
      token_hash: hashOf(password),
      project_id: projectId,
      user_id: userId,
      created_at: now,
      expires_at: expiresAt,
    });
    return { password, expiresAt };
  }

  /** The credential a password stands for, or why it is refused. */
  check(password: string): { ok: true; credential: CredentialRow } | { ok: false; reason: string } {
    const credential = this.repo.credential(hashOf(password));
    if (!credential) return { ok: false, reason: "the password is not recognised (get one from GET …/container-registry/token)" };
    if (credential.expires_at <= this.clock.now())
      return { ok: false, reason: "the password has expired (they last 12 hours); get a new one" };
    return { ok: true, credential };
  }
}

/**
 * What a credential of `projectId` is granted of the requested scopes: the actions it may have on repositories
 * created in that project, and nothing on anything else. Scopes granted nothing are left out (the registry then
 * refuses what needed them, as the token protocol intends).
 */
export function grantAccess(projectId: string, scopes: readonly Scope[], repositoryExists: (repo: string) => boolean): AccessEntry[] {
  const namespace = `${NAMESPACE}/${projectId}/`;
  const granted: AccessEntry[] = [];
  for (const scope of scopes) {
    if (scope.type !== "repository" || !scope.name.startsWith(namespace)) continue;
    const repo = scope.name.slice(namespace.length);
    if (!repo || fullRepositoryName(projectId, repo) !== scope.name || !repositoryExists(repo)) continue;
    const wanted = scope.actions.includes("*") ? [...ACTIONS] : scope.actions;
    const actions = ACTIONS.filter((a) => wanted.includes(a));
    if (actions.length) granted.push({ type: "repository", name: scope.name, actions });
  }
  return granted;
}
