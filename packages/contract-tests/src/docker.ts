// The one step that needs real tools: pushing htcemu/shell:1 (built by images/build.sh) into a project's
// registry with the Docker CLI, so getImage can answer READY. Every command uses a DOCKER_CONFIG of its own, so
// ~/.docker is never touched.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PUSH_SOURCE_IMAGE = "htcemu/shell:1";

export interface DockerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function docker(args: readonly string[], options: { config?: string; input?: string; timeoutMs?: number } = {}): Promise<DockerRun> {
  return new Promise((resolve) => {
    const child = spawn("docker", args, {
      env: { ...process.env, ...(options.config ? { DOCKER_CONFIG: options.config } : {}), DOCKER_CLI_HINTS: "false" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + error.message });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Why the push step cannot run here (no engine, no registry binary, no source image), or undefined. */
export async function pushUnavailable(
  registryBin = process.env["HTC_EMULATOR_REGISTRY_BIN"] ?? "/usr/bin/docker-registry",
): Promise<string | undefined> {
  if (!existsSync(registryBin))
    return `${registryBin} does not exist (apt-get install docker-registry, or scripts/docker/ensure-engine.sh)`;
  const version = await docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 15_000 });
  if (version.code !== 0) return `no Docker engine answers (${(version.stderr.trim().split("\n")[0] ?? "").slice(0, 200)})`;
  const image = await docker(["image", "inspect", PUSH_SOURCE_IMAGE], { timeoutMs: 15_000 });
  if (image.code !== 0) return `${PUSH_SOURCE_IMAGE} is not in the engine (run images/build.sh)`;
  return undefined;
}

/**
 * Logs in to `registry` (the part of `containerRegistry` before the first `/`) with `password`, pushes `source`
 * as `target` and removes the local tag again. Throws with the CLI's output when a step fails.
 */
export async function pushImage(registry: string, password: string, source: string, target: string): Promise<void> {
  const config = mkdtempSync(join(tmpdir(), "htc-contract-docker-"));
  try {
    const login = await docker(["login", "--username", "AWS", "--password-stdin", registry], { config, input: password });
    if (login.code !== 0) throw new Error(`docker login ${registry} failed: ${login.stderr}`);
    const tag = await docker(["tag", source, target], { config });
    if (tag.code !== 0) throw new Error(`docker tag failed: ${tag.stderr}`);
    try {
      const push = await docker(["push", target], { config });
      if (push.code !== 0) throw new Error(`docker push ${target} failed: ${push.stderr}`);
    } finally {
      await docker(["rmi", target], { config });
    }
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}
