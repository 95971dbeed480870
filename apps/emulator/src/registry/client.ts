// The emulator's own calls to its registry (Docker Registry HTTP API v2), authorized by tokens it signs for
// itself: tag lists, manifest digests, and the blobs an image needs (to tell when a push is complete).
import type { AccessEntry, RegistryTokenIssuer } from "./token-service.js";

/** Every manifest type the emulator understands; asking for all of them keeps the registry from converting. */
export const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

const INDEX_TYPES = new Set(MANIFEST_TYPES.slice(0, 2));

export class RegistryUnavailableError extends Error {
  override readonly name = "RegistryUnavailableError";
}

interface Descriptor {
  digest: string;
  mediaType?: string;
  urls?: string[];
}

interface Manifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

export class RegistryClient {
  private readonly tokens = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly issuer: RegistryTokenIssuer,
    /** The registry's base URL, once it answers (waits through a restart). */
    private readonly base: () => Promise<string>,
  ) {}

  /** The tags of `name` (`rescale/<projectId>/<repo>`); none when the repository does not exist (yet, or any more). */
  async tags(name: string): Promise<string[]> {
    const response = await this.request(name, ["pull"], "GET", `/v2/${name}/tags/list`);
    if (response.status === 404) return [];
    await expectOk(response, `listing the tags of ${name}`);
    // After every tag of a repository was deleted, distribution answers `"tags": null`.
    const body = (await response.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /** The digest `reference` (a tag or a digest) of `name` points to, or undefined when there is none. */
  async manifestDigest(name: string, reference: string): Promise<string | undefined> {
    const response = await this.request(name, ["pull"], "HEAD", `/v2/${name}/manifests/${reference}`, {
      accept: MANIFEST_TYPES.join(", "),
    });
    await response.body?.cancel();
    if (response.status === 404) return undefined;
    await expectOk(response, `looking up ${name}:${reference}`);
    const digest = response.headers.get("docker-content-digest");
    if (!digest) throw new RegistryUnavailableError(`the registry named no digest for ${name}:${reference}`);
    return digest;
  }

  /**
   * True when the manifest `digest` of `name` and everything it references (the manifests of an index, the config
   * and layers of an image) are in the registry.
   */
  async isComplete(name: string, digest: string, depth = 0): Promise<boolean> {
    const response = await this.request(name, ["pull"], "GET", `/v2/${name}/manifests/${digest}`, { accept: MANIFEST_TYPES.join(", ") });
    if (response.status === 404) return false;
    await expectOk(response, `reading the manifest ${name}@${digest}`);
    const type = response.headers.get("content-type")?.split(";")[0]?.trim();
    const manifest = (await response.json()) as Manifest;
    if (INDEX_TYPES.has(manifest.mediaType ?? type ?? "") || manifest.manifests) {
      if (depth > 2) return false;
      for (const child of manifest.manifests ?? []) {
        if (!(await this.isComplete(name, child.digest, depth + 1))) return false;
      }
      return true;
    }
    // Foreign layers (with `urls`) are never stored in a registry.
    const blobs = [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])].filter((d) => !d.urls?.length);
    const present = await Promise.all(blobs.map((blob) => this.hasBlob(name, blob.digest)));
    return present.every(Boolean);
  }

  async hasBlob(name: string, digest: string): Promise<boolean> {
    const response = await this.request(name, ["pull"], "HEAD", `/v2/${name}/blobs/${digest}`);
    await response.body?.cancel();
    if (response.status === 404) return false;
    await expectOk(response, `looking up the blob ${name}@${digest}`);
    return true;
  }

  /** Deletes the manifest `digest` of `name` (and with it every tag pointing to it). */
  async deleteManifest(name: string, digest: string): Promise<boolean> {
    const response = await this.request(name, ["delete"], "DELETE", `/v2/${name}/manifests/${digest}`);
    await response.body?.cancel();
    if (response.status === 404) return false;
    await expectOk(response, `deleting ${name}@${digest}`);
    return true;
  }

  private async request(
    name: string,
    actions: string[],
    method: string,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    let base: string;
    try {
      base = await this.base();
    } catch (error) {
      throw new RegistryUnavailableError(`the registry is not running: ${(error as Error).message.split("\n")[0]}`);
    }
    const token = await this.token({ type: "repository", name, actions });
    try {
      return await fetch(`${base}${path}`, {
        method,
        headers: { ...headers, authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new RegistryUnavailableError(`the registry did not answer ${method} ${path}: ${(error as Error).message}`);
    }
  }

  /** Tokens for the emulator itself, reused while they have a minute left. */
  private async token(access: AccessEntry): Promise<string> {
    const key = `${access.name}:${access.actions.join(",")}`;
    const cached = this.tokens.get(key);
    if (cached && cached.until > Date.now()) return cached.token;
    const { token, expiresIn } = await this.issuer.sign("htc-emulator", [access]);
    if (this.tokens.size > 1000) this.tokens.clear();
    this.tokens.set(key, { token, until: Date.now() + (expiresIn - 60) * 1000 });
    return token;
  }
}

async function expectOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  const text = await response.text().catch(() => "");
  throw new RegistryUnavailableError(`the registry answered ${response.status} ${what}: ${text.slice(0, 300)}`);
}
