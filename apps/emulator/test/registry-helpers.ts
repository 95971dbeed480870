// Shared set-up of the registry tests: whether docker-registry (and Docker) are here, and small helpers for the
// registry's token protocol.
import { existsSync } from "node:fs";
import { describe } from "vitest";

export const REGISTRY_BIN = process.env.HTC_EMULATOR_REGISTRY_BIN ?? "/usr/bin/docker-registry";
export const registryMissing = existsSync(REGISTRY_BIN)
  ? undefined
  : `${REGISTRY_BIN} does not exist (apt-get install docker-registry, or scripts/docker/ensure-engine.sh)`;

/** describe, or describe.skip with the reason printed; with HTC_REQUIRE_DOCKER=1 (CI) a missing tool fails instead. */
export function describeIf(missing: string | undefined, what: string): typeof describe {
  if (!missing) return describe;
  if (process.env.HTC_REQUIRE_DOCKER === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${missing}`);
  console.warn(`${what} skipped: ${missing}`);
  return describe.skip as unknown as typeof describe;
}

/** The claims of a JWT, unverified. */
export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** Asks the emulator's token realm for `scopes` with `password`; returns the status and, on 200, the access granted. */
export async function realmToken(
  rootUrl: string,
  password: string,
  scopes: string[],
  username = "AWS",
): Promise<{ status: number; token?: string; access?: { type: string; name: string; actions: string[] }[]; body: unknown }> {
  const query = new URLSearchParams({ service: "htc-emulator-registry", account: username });
  for (const scope of scopes) query.append("scope", scope);
  const response = await fetch(`${rootUrl}/_emulator/registry/token?${query}`, { headers: { authorization: basic(username, password) } });
  const body = (await response.json()) as { token?: string };
  if (response.status !== 200 || !body.token) return { status: response.status, body };
  return { status: 200, token: body.token, access: jwtClaims(body.token).access as never, body };
}

/** Pushes a small image (one layer of `content`) to `name:tag` through the registry's HTTP API; returns its digest. */
export async function pushTestImage(registryUrl: string, token: string, name: string, tag: string, content = "layer"): Promise<string> {
  const { createHash } = await import("node:crypto");
  const digestOf = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
  const auth = { authorization: `Bearer ${token}` };
  const upload = async (data: Buffer) => {
    const started = await fetch(`${registryUrl}/v2/${name}/blobs/uploads/`, { method: "POST", headers: auth });
    if (started.status !== 202) throw new Error(`blob upload refused: ${started.status} ${await started.text()}`);
    const location = new URL(started.headers.get("location")!, registryUrl);
    location.searchParams.set("digest", digestOf(data));
    const put = await fetch(location, { method: "PUT", headers: { ...auth, "content-type": "application/octet-stream" }, body: data });
    if (put.status !== 201) throw new Error(`blob upload failed: ${put.status} ${await put.text()}`);
    return { digest: digestOf(data), size: data.length };
  };
  const layer = await upload(Buffer.from(content));
  const config = await upload(
    Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] } })),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: { mediaType: "application/vnd.docker.container.image.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...layer }],
    }),
  );
  const put = await fetch(`${registryUrl}/v2/${name}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/vnd.docker.distribution.manifest.v2+json" },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`manifest push failed: ${put.status} ${await put.text()}`);
  return put.headers.get("docker-content-digest")!;
}
