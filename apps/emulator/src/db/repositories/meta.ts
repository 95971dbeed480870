// The emulator's own identity in its database: the instance id (labels its containers), the storage secret
// (signs storage credentials, written by migration 3) and the token signing keys. Read once at start, before the
// other repositories exist, so each reader builds this small repository from the database itself.
import type { Db } from "../database.js";

export interface SigningKeyRow {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
}

export class MetaRepository {
  constructor(private readonly db: Db) {}

  private value(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  /** The stable id of this emulator's state, created on first use. */
  instanceId(create: () => string): string {
    const existing = this.value("instance_id");
    if (existing) return existing;
    const id = create();
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('instance_id', ?)").run(id);
    return id;
  }

  /** The secret that signs storage credentials (hex), if the migrations wrote it. */
  storageSecret(): string | undefined {
    return this.value("storage_secret");
  }

  /** The newest token signing key. */
  latestSigningKey(): Pick<SigningKeyRow, "kid" | "private_jwk"> | undefined {
    return this.db.prepare("SELECT kid, private_jwk FROM signing_keys ORDER BY created_at DESC LIMIT 1").get() as
      | Pick<SigningKeyRow, "kid" | "private_jwk">
      | undefined;
  }

  insertSigningKey(row: SigningKeyRow): void {
    this.db
      .prepare("INSERT INTO signing_keys (kid, private_jwk, public_jwk, created_at) VALUES (@kid, @private_jwk, @public_jwk, @created_at)")
      .run(row);
  }
}
