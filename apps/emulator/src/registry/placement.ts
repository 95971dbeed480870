// Where the project registries run on this machine, decided at start:
//
//   1. Debian's docker-registry binary as a child process, when it is installed and the Docker engine (if any)
//      shares this machine's loopback: the quickest start and no image needed;
//   2. otherwise a container on the local engine: a Linux engine without the binary, or an engine in a VM (Docker
//      Desktop), whose daemon (which makes every push and pull) cannot reach a process on the host's 127.0.0.1;
//   3. off, only when asked (`--registry off`) or when neither can be had, with the one command that fixes it.
//
// The container's image is the first of: `--registry-image`; `htcemu/registry:2` (images/build.sh builds it
// offline from Debian's binary); `registry:2` when the engine has it; `registry:2` pulled from Docker Hub, the one
// time the emulator reaches out on its own (the image is small, and on Docker Desktop nothing else can be had).
import { existsSync } from "node:fs";
import type Dockerode from "dockerode";
import type { DockerEngineCheck } from "../jobs/docker-engine.js";
import { dockerMessage, ImageResolver, statusOf } from "../jobs/docker-images.js";

export type RegistryMode = "auto" | "on" | "off";

/** Built by images/build.sh from Debian's docker-registry. */
export const OFFLINE_REGISTRY_IMAGE = "htcemu/registry:2";
/** The upstream image of distribution 2.x (the same binary and configuration). */
export const PUBLIC_REGISTRY_IMAGE = "registry:2";
const PUBLIC_REGISTRY_PULL = "docker.io/library/registry:2";

export type RegistryPlan =
  | { run: "process"; bin: string }
  | { run: "container"; vm: boolean; because: string }
  | { run: "off"; why: string; fix: string };

export interface PlanInput {
  mode: RegistryMode;
  bin: string;
  binExists: boolean;
  /** What the Docker engine said; undefined when it was not asked (the binary does and no engine is needed). */
  engine: DockerEngineCheck | undefined;
  platform: NodeJS.Platform;
  /** Running as root (the set-up script can install packages). */
  root: boolean;
  /** apt-get is here (Debian, Ubuntu): the set-up script can install docker-registry. */
  apt: boolean;
}

/** The registry is off: why, and the one command that turns it on. */
export class RegistryOffError extends Error {
  override readonly name = "RegistryOffError";
  constructor(
    readonly why: string,
    readonly fix: string,
  ) {
    super(`${why}. To turn the project registries on: ${fix}`);
  }
}

/** Off because the user said so. */
export const OFF_AS_ASKED = { why: "--registry off was given", fix: "start the emulator without --registry off" } as const;

/** How the registry runs here (pure: the inputs are what start() found out). */
export function planRegistry(input: PlanInput): RegistryPlan {
  const { mode, bin, binExists, engine } = input;
  if (mode === "off") return { run: "off", ...OFF_AS_ASKED };
  const vm = engine?.ok === true && engine.info.desktop;
  if (binExists && !vm) return { run: "process", bin };
  if (engine?.ok) {
    const because = vm
      ? `the Docker engine runs in a VM (${engine.info.operatingSystem || engine.info.name}), whose daemon cannot reach a registry on this machine's loopback`
      : `${bin} does not exist`;
    return { run: "container", vm, because };
  }
  return {
    run: "off",
    why: `${bin} does not exist, and no Docker engine answers to run the registry in a container`,
    fix: setupCommand(input),
  };
}

/** The one command that gets a registry (and an engine) onto this machine. */
export function setupCommand(input: Pick<PlanInput, "platform" | "root" | "apt" | "engine">): string {
  if (input.platform === "darwin" || input.platform === "win32") {
    // Docker Desktop: the registry runs as a container, from registry:2.
    return input.engine?.ok
      ? `docker pull ${PUBLIC_REGISTRY_IMAGE}`
      : "start Docker Desktop (install it from https://docs.docker.com/desktop/)";
  }
  if (input.engine?.ok && (input.engine.info.desktop || !input.apt)) return `docker pull ${PUBLIC_REGISTRY_IMAGE}`;
  const sudo = input.root ? "" : "sudo ";
  // The set-up script stops at an engine named by DOCKER_HOST that does not answer; the binary alone is enough.
  if (!input.engine?.ok && process.env.DOCKER_HOST && input.apt) return `${sudo}apt-get install docker-registry`;
  if (!input.apt)
    return `docker pull ${PUBLIC_REGISTRY_IMAGE} (once a Docker engine runs), or install a distribution 2.x registry binary and pass --registry-bin`;
  // Installs docker-registry (and, when missing, the engine): the registry then runs as a child process.
  return `${sudo}bash scripts/docker/ensure-engine.sh`;
}

/** What planRegistry() needs to know about this process and machine. */
export function machineFacts(): Pick<PlanInput, "platform" | "root" | "apt"> {
  return { platform: process.platform, root: process.getuid?.() === 0, apt: existsSync("/usr/bin/apt-get") };
}

/**
 * The image to run the registry from, present in the engine once this resolves (pulled when needed). Throws a
 * RegistryOffError naming what to do when none can be had.
 */
export async function registryImage(
  docker: Dockerode,
  requested: string | undefined,
  facts: Pick<PlanInput, "platform" | "root" | "apt" | "engine">,
  log: (line: string) => void,
): Promise<string> {
  const candidates = requested ? [requested] : [OFFLINE_REGISTRY_IMAGE, PUBLIC_REGISTRY_IMAGE];
  for (const image of candidates) if (await hasImage(docker, image)) return image;
  const pull = requested ?? PUBLIC_REGISTRY_PULL;
  log(`registry: no registry image in the engine (${candidates.join(", ")}); pulling ${pull}`);
  const started = performance.now();
  try {
    await new ImageResolver(docker).ensure(pull);
  } catch (error) {
    const why = `no registry image is in the Docker engine (${candidates.join(", ")}) and pulling ${pull} failed: ${dockerMessage(error).replace(/^CannotPullContainerError: /, "")}`;
    throw new RegistryOffError(why, requested ? `docker pull ${requested}` : setupCommand(facts));
  }
  log(`registry: pulled ${pull} in ${Math.round(performance.now() - started)} ms`);
  return requested ?? PUBLIC_REGISTRY_IMAGE;
}

async function hasImage(docker: Dockerode, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}
