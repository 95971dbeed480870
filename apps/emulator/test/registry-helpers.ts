// Shared set-up of the registry tests: whether docker-registry (and Docker, and a registry image) are here, the
// Docker CLI with a config folder of its own, and small helpers for the registry's token protocol.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unwrap } from "@htcemu/client";
import { afterAll, describe } from "vitest";
import type { RunningEmulator } from "../src/emulator.js";
import { detectDockerEngine } from "../src/jobs/docker-engine.js";
import { OFFLINE_REGISTRY_IMAGE, PUBLIC_REGISTRY_IMAGE } from "../src/registry/placement.js";

export const REGISTRY_BIN = process.env.HTC_EMULATOR_REGISTRY_BIN ?? "/usr/bin/docker-registry";
export const registryMissing = existsSync(REGISTRY_BIN)
  ? undefined
  : `${REGISTRY_BIN} does not exist (apt-get install docker-registry, or scripts/docker/ensure-engine.sh)`;
/** A path where no registry binary is: the emulator then runs the registry as a container. */
export const NO_REGISTRY_BIN = "/nonexistent/docker-registry";

export interface DockerRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the Docker CLI with its own config folder (and `input` on stdin), so ~/.docker is never touched. */
export function dockerCli(config: string | undefined, args: string[], input?: string): Promise<DockerRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, {
      env: { ...process.env, ...(config ? { DOCKER_CONFIG: config } : {}), DOCKER_BUILDKIT: "0", DOCKER_CLI_HINTS: "false" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    child.stdin.end(input ?? "");
  });
}

/** Why the Docker CLI tests cannot run here (no engine, no CLI, a missing image), or undefined. */
export async function dockerMissing(images: readonly string[]): Promise<string | undefined> {
  const engine = await detectDockerEngine();
  if (!engine.ok) return engine.reason.split("\n")[0];
  const cli = await dockerCli(undefined, ["version", "--format", "{{.Client.Version}}"]).catch(
    (e: Error) => ({ code: 1, stderr: e.message }) as DockerRun,
  );
  if (cli.code !== 0) return `the docker CLI does not work: ${cli.stderr.trim()}`;
  for (const image of images) {
    if ((await dockerCli(undefined, ["image", "inspect", image])).code !== 0) return `${image} is not in the engine (bash images/build.sh)`;
  }
  return undefined;
}

/** Why no registry container can run here: neither htcemu/registry:2 (images/build.sh) nor registry:2 is in the engine. */
export async function registryImageMissing(): Promise<string | undefined> {
  for (const image of [OFFLINE_REGISTRY_IMAGE, PUBLIC_REGISTRY_IMAGE]) {
    if ((await dockerCli(undefined, ["image", "inspect", image])).code === 0) return undefined;
  }
  return `neither ${OFFLINE_REGISTRY_IMAGE} nor ${PUBLIC_REGISTRY_IMAGE} is in the engine (bash images/build.sh builds the first from Debian's docker-registry)`;
}

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

/** Polls `read` until `done` says so; throws with the last value after `timeoutMs`. */
export async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const temporary: string[] = [];
let cleanupRegistered = false;

/** Removes `dir` after the test file's tests (a folder of the test, or one an emulator made). */
export function removeLater(dir: string): void {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    afterAll(() => {
      for (const each of temporary.splice(0)) rmSync(each, { recursive: true, force: true });
    });
  }
  temporary.push(dir);
}

/** A new folder, removed after the test file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  removeLater(dir);
  return dir;
}

/** Creates a project with one repository through the typed client; returns its id and a registry password. */
export async function projectWithRepo(emulator: RunningEmulator, repoName: string): Promise<{ projectId: string; password: string }> {
  const { client } = emulator;
  const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "p", projectDescription: "" } }));
  const projectId = project.projectId;
  await unwrap(
    client.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", { params: { path: { projectId, repoName } } }),
  );
  const password = (await unwrap(
    client.api.GET("/htc/projects/{projectId}/container-registry/token", { params: { path: { projectId } }, parseAs: "text" }),
  )) as string;
  return { projectId, password };
}
