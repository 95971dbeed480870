// Persistence of the project registries: repositories, `docker login` passwords (hashed), known images, and the
// key that signs the registry's tokens.
import type { Db } from "../database.js";

export interface RepositoryRow {
  project_id: string;
  name: string;
  created_by: string;
  created_at: number;
}

export interface CredentialRow {
  token_hash: string;
  project_id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}

export interface ImageRow {
  project_id: string;
  repository: string;
  tag: string;
  digest: string;
  pushed_at: number;
  complete_at: number | null;
}

const ISSUER_KEY = "registry_token_issuer";
const PORT_KEY = "registry_port";

export class RegistryRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      repository: db.prepare("SELECT * FROM registry_repositories WHERE project_id = ? AND name = ?"),
      insertRepository: db.prepare(
        `INSERT INTO registry_repositories (project_id, name, created_by, created_at) VALUES (@project_id, @name, @created_by, @created_at)
         ON CONFLICT (project_id, name) DO NOTHING`,
      ),
      repositories: db.prepare("SELECT name FROM registry_repositories WHERE project_id = ? ORDER BY created_at, name"),
      insertCredential: db.prepare(
        `INSERT INTO registry_credentials (token_hash, project_id, user_id, created_at, expires_at)
         VALUES (@token_hash, @project_id, @user_id, @created_at, @expires_at)`,
      ),
      credential: db.prepare("SELECT * FROM registry_credentials WHERE token_hash = ?"),
      pruneCredentials: db.prepare("DELETE FROM registry_credentials WHERE expires_at <= ?"),
      images: db.prepare("SELECT * FROM registry_images WHERE project_id = ? ORDER BY repository, tag"),
      imagesOfRepository: db.prepare("SELECT * FROM registry_images WHERE project_id = ? AND repository = ? ORDER BY tag"),
      allImages: db.prepare("SELECT * FROM registry_images"),
      image: db.prepare("SELECT * FROM registry_images WHERE project_id = ? AND repository = ? AND tag = ?"),
      upsertImage: db.prepare(
        `INSERT INTO registry_images (project_id, repository, tag, digest, pushed_at, complete_at)
         VALUES (@project_id, @repository, @tag, @digest, @pushed_at, NULL)
         ON CONFLICT (project_id, repository, tag) DO UPDATE SET digest = excluded.digest, pushed_at = excluded.pushed_at,
           complete_at = NULL
         WHERE registry_images.digest <> excluded.digest`,
      ),
      completeImage: db.prepare(
        "UPDATE registry_images SET complete_at = ? WHERE project_id = ? AND repository = ? AND digest = ? AND complete_at IS NULL",
      ),
      deleteImage: db.prepare("DELETE FROM registry_images WHERE project_id = ? AND repository = ? AND tag = ?"),
      deleteDigest: db.prepare("DELETE FROM registry_images WHERE project_id = ? AND repository = ? AND digest = ?"),
      deleteRepositoryImages: db.prepare("DELETE FROM registry_images WHERE project_id = ? AND repository = ?"),
      meta: db.prepare("SELECT value FROM meta WHERE key = ?"),
      setMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
  }

  repository(projectId: string, name: string): RepositoryRow | undefined {
    return this.stmts.repository.get(projectId, name) as RepositoryRow | undefined;
  }

  /** Creates the repository unless it exists; true when this call created it. */
  createRepository(row: RepositoryRow): boolean {
    return this.stmts.insertRepository.run(row).changes > 0;
  }

  repositories(projectId: string): string[] {
    return (this.stmts.repositories.all(projectId) as { name: string }[]).map((r) => r.name);
  }

  insertCredential(row: CredentialRow): void {
    this.stmts.insertCredential.run(row);
  }

  credential(tokenHash: string): CredentialRow | undefined {
    return this.stmts.credential.get(tokenHash) as CredentialRow | undefined;
  }

  pruneCredentials(now: number): void {
    this.stmts.pruneCredentials.run(now);
  }

  images(projectId: string, repository?: string): ImageRow[] {
    return (
      repository === undefined ? this.stmts.images.all(projectId) : this.stmts.imagesOfRepository.all(projectId, repository)
    ) as ImageRow[];
  }

  allImages(): ImageRow[] {
    return this.stmts.allImages.all() as ImageRow[];
  }

  image(projectId: string, repository: string, tag: string): ImageRow | undefined {
    return this.stmts.image.get(projectId, repository, tag) as ImageRow | undefined;
  }

  /** Records that `tag` points to `digest`; a changed digest restarts the image's PENDING period. */
  recordImage(row: Omit<ImageRow, "complete_at">): void {
    this.stmts.upsertImage.run(row);
  }

  markComplete(projectId: string, repository: string, digest: string, at: number): void {
    this.stmts.completeImage.run(at, projectId, repository, digest);
  }

  deleteImage(projectId: string, repository: string, tag: string): void {
    this.stmts.deleteImage.run(projectId, repository, tag);
  }

  deleteDigest(projectId: string, repository: string, digest: string): void {
    this.stmts.deleteDigest.run(projectId, repository, digest);
  }

  deleteRepositoryImages(projectId: string, repository: string): void {
    this.stmts.deleteRepositoryImages.run(projectId, repository);
  }

  /** The token issuer's key and certificate (JSON), if one was made. */
  issuer(): string | undefined {
    return (this.stmts.meta.get(ISSUER_KEY) as { value: string } | undefined)?.value;
  }

  setIssuer(value: string): void {
    this.stmts.setMeta.run(ISSUER_KEY, value);
  }

  /** The port the registry listened on last time (kept so image addresses survive a restart). */
  lastPort(): number | undefined {
    const value = (this.stmts.meta.get(PORT_KEY) as { value: string } | undefined)?.value;
    return value ? Number(value) : undefined;
  }

  setLastPort(port: number): void {
    this.stmts.setMeta.run(PORT_KEY, String(port));
  }
}
