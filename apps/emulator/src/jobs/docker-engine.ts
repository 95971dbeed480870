// Finding and describing the Docker engine the executor talks to. Kept apart from the executor so the command
// line can ask "is there an engine?" (for `--executor auto`) without constructing one.
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { processUid, runningImage } from "../container.js";

/** What the executor needs to know about the engine. */
export interface DockerEngineInfo {
  serverVersion: string;
  apiVersion: string;
  /** e.g. "Debian GNU/Linux 12 (bookworm)" or "Docker Desktop". */
  operatingSystem: string;
  /** "linux" or "windows": the kind of containers the engine runs. */
  osType: string;
  /** The engine's name (host name of the machine or VM it runs on). */
  name: string;
  /** CPUs the engine's host has: the most a container can use. */
  ncpu: number;
  memTotalBytes: number;
  /**
   * The engine runs in a VM apart from this process's host (Docker Desktop, or any engine seen from macOS or
   * Windows): `--network host` would be the VM's loopback, not ours, so containers must use a bridge network and
   * reach us through `host.docker.internal`.
   */
  desktop: boolean;
}

export type DockerEngineCheck = { ok: true; info: DockerEngineInfo } | { ok: false; reason: string };

/**
 * A client for the engine named by the environment: DOCKER_HOST (and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH) when
 * set, else the default socket. Docker Desktop on macOS may only offer its per-user socket, so that one is tried
 * when the system socket does not exist.
 */
export function defaultDocker(): Dockerode {
  if (!process.env.DOCKER_HOST && process.platform !== "win32" && !existsSync("/var/run/docker.sock")) {
    const userSocket = join(homedir(), ".docker", "run", "docker.sock");
    if (existsSync(userSocket)) return new Dockerode({ socketPath: userSocket });
  }
  return new Dockerode();
}

/** Asks the engine who it is; never throws. `timeoutMs` bounds the wait for an engine that accepts but hangs. */
export async function detectDockerEngine(docker: Dockerode = defaultDocker(), timeoutMs = 5000): Promise<DockerEngineCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })), timeoutMs);
    });
    const [info, version] = await Promise.race([Promise.all([docker.info(), docker.version()]), timeout]);
    return { ok: true, info: describeEngine(info as Record<string, unknown>, version) };
  } catch (error) {
    return { ok: false, reason: engineUnavailableMessage(error, process.platform) };
  } finally {
    clearTimeout(timer);
  }
}

export function describeEngine(info: Record<string, unknown>, version: { Version?: string; ApiVersion?: string } = {}): DockerEngineInfo {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const operatingSystem = str(info.OperatingSystem);
  const name = str(info.Name);
  const osType = str(info.OSType) || "linux";
  const desktop =
    /docker desktop/i.test(operatingSystem) ||
    name === "docker-desktop" ||
    osType === "windows" ||
    // Any engine seen from macOS or Windows runs in a VM (Colima, OrbStack, Rancher Desktop, ...).
    process.platform === "darwin" ||
    process.platform === "win32";
  return {
    serverVersion: version.Version || str(info.ServerVersion),
    apiVersion: version.ApiVersion ?? "",
    operatingSystem,
    osType,
    name,
    ncpu: typeof info.NCPU === "number" && info.NCPU > 0 ? info.NCPU : 1,
    memTotalBytes: typeof info.MemTotal === "number" ? info.MemTotal : 0,
    desktop,
  };
}

/**
 * A message that tells the user what to do, for the platform they are on; in the htcemu/emulator image (`image`
 * set), what to mount or set on `docker run`. One line.
 */
export function engineUnavailableMessage(error: unknown, platform: NodeJS.Platform, image = runningImage()): string {
  const e = error as { code?: string; message?: string; address?: string };
  const where = process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : (e.address ?? "the default Docker socket");
  const detail = `${e.code ? `${e.code}: ` : ""}${e.message ?? String(error)}`.replace(/\s*\n\s*/g, " ");
  if (image) return inContainerMessage(e, where, detail);
  const fallback = "Or run the emulator without containers: --executor simulated.";
  if (platform === "darwin" || platform === "win32") {
    return (
      `No Docker engine answers at ${where} (${detail}). Start Docker Desktop (install it from ` +
      `https://docs.docker.com/desktop/ if needed) and wait until it reports that the engine is running, or point ` +
      `DOCKER_HOST at another engine. ${fallback}`
    );
  }
  let advice: string;
  if (e.code === "EACCES") {
    advice =
      "The socket exists but this user may not use it: run as root, or add the user to the docker group " +
      '(sudo usermod -aG docker "$USER", then log in again).';
  } else if (e.code === "ENOENT" && !process.env.DOCKER_HOST) {
    advice =
      "There is no engine socket: install Docker Engine (https://docs.docker.com/engine/install/, or " +
      "sudo apt-get install docker.io) and start it (sudo systemctl start docker, or sudo dockerd &); for a rootless " +
      "engine or a remote one, set DOCKER_HOST.";
  } else if (process.env.DOCKER_HOST) {
    advice = "Start the engine DOCKER_HOST names, or unset DOCKER_HOST to use the local one.";
  } else {
    advice = "Start the engine (sudo systemctl start docker, or sudo dockerd &), or set DOCKER_HOST to an engine that runs.";
  }
  return `No Docker engine answers at ${where} (${detail}). ${advice} ${fallback}`;
}

/** Jobs run as sibling containers through the host's engine socket, mounted into the emulator's container. */
function inContainerMessage(e: { code?: string; address?: string }, where: string, detail: string): string {
  const socket = e.address ?? "/var/run/docker.sock";
  const fallback = "or run jobs without containers with -e HTC_EMULATOR_EXECUTOR=simulated";
  if (e.code === "ENOENT" && !process.env.DOCKER_HOST) {
    return `No Docker engine socket in this container (${socket} does not exist): mount the host's with -v /var/run/docker.sock:/var/run/docker.sock, ${fallback}.`;
  }
  if (e.code === "EACCES") {
    const uid = processUid();
    let group = "the socket's group id (stat -c %g /var/run/docker.sock on the host)";
    try {
      group = String(statSync(socket).gid);
    } catch {
      // Keep the general advice.
    }
    return `The Docker socket mounted at ${socket} refuses this container's user${uid === undefined ? "" : ` (uid ${uid})`}: run the container as root (the image's default) or add --group-add ${group}, ${fallback}.`;
  }
  if (e.code === "ECONNREFUSED") {
    return `Nothing answers on the Docker socket mounted at ${socket} (${detail}): start the engine on the host, or mount the socket of the engine that runs (rootless Docker: -v "$XDG_RUNTIME_DIR/docker.sock:/var/run/docker.sock"), ${fallback}.`;
  }
  return `No Docker engine answers at ${where} (${detail}): mount the host's engine with -v /var/run/docker.sock:/var/run/docker.sock (or set DOCKER_HOST), ${fallback}.`;
}
