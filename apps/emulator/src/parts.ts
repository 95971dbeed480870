// What is off in an emulator, and the one command that turns each part on: the Docker executor (jobs simulated
// instead), the project registries, the job images the examples use. Printed at the top of what `htc-emulator`,
// `htc emulator start`, `pnpm demo` and `pnpm tutorial` print, so that nothing is off without the user knowing.
import { existsSync } from "node:fs";
import { engineProbe } from "./jobs/engine-probe.js";
import { type EmulatorOptions, resolveOptions } from "./options.js";
import { machineFacts, OFFLINE_REGISTRY_IMAGE, PUBLIC_REGISTRY_IMAGE, planRegistry, setupCommand } from "./registry/placement.js";

export interface OffPart {
  /** `jobs`, `registry` or `job images`. */
  part: string;
  /** What there is instead: `simulated`, `off`, `missing`. */
  state: string;
  /** Why, in one sentence. */
  why: string;
  /** The one command (or action) that turns it on. */
  fix: string;
}

/** The images of images/build.sh that the examples' jobs run. */
export const PROJECT_JOB_IMAGES = ["htcemu/shell:1", "htcemu/node:20"] as const;

/** Why jobs are simulated (none when they run in Docker). `because` is the engine's answer when it was asked. */
export function executorOffPart(executor: string, requested: string, because: string | undefined): OffPart | undefined {
  if (executor !== "simulated") return undefined;
  if (requested === "simulated") {
    return {
      part: "jobs",
      state: "simulated",
      why: "--executor simulated was given",
      fix: "start the emulator without --executor simulated",
    };
  }
  // With --executor docker an emulator does not start at all without an engine (only probeParts() sees this).
  const state = requested === "docker" ? "unavailable" : "simulated";
  return { part: "jobs", state, why: firstSentence(because ?? "no Docker engine answers"), fix: engineCommand(because) };
}

/** The one command that gets a Docker engine to answer here. */
export function engineCommand(reason: string | undefined, facts = machineFacts()): string {
  if (facts.platform === "darwin" || facts.platform === "win32")
    return "start Docker Desktop (install it from https://docs.docker.com/desktop/)";
  if (reason?.includes("EACCES")) return 'sudo usermod -aG docker "$USER" (then log in again)';
  if (process.env.DOCKER_HOST) return `start the engine at DOCKER_HOST=${process.env.DOCKER_HOST}, or unset DOCKER_HOST`;
  return facts.apt
    ? setupCommand({ ...facts, engine: undefined })
    : "install and start Docker Engine (https://docs.docker.com/engine/install/)";
}

/**
 * The parts that are off in a running emulator: what it found at start (`off`), and, when jobs run in Docker, the
 * project's job images that are not in the engine.
 */
export async function offParts(emulator: { off: readonly OffPart[]; executor: string }): Promise<OffPart[]> {
  const parts = [...emulator.off];
  if (emulator.executor === "docker") parts.push(...jobImagesPart(await missingJobImages()));
  return parts;
}

/**
 * The parts that would be off if an emulator started here now with `options`, found without starting one (for
 * programs that set the machine up before they start their emulator, like the tutorial).
 */
export async function probeParts(options: EmulatorOptions = {}): Promise<OffPart[]> {
  const resolved = resolveOptions(options);
  const engine = engineProbe();
  const binExists = existsSync(resolved.registryBin);
  const wantsEngine = resolved.executor !== "simulated" || (resolved.registry !== "off" && !binExists);
  const answer = wantsEngine ? await engine.get() : undefined;
  const parts: OffPart[] = [];
  const executor = resolved.executor !== "simulated" && answer?.check.ok ? "docker" : "simulated";
  const jobs = executorOffPart(executor, resolved.executor, answer && !answer.check.ok ? answer.check.reason : undefined);
  if (jobs) parts.push(jobs);
  const facts = { ...machineFacts(), engine: answer?.check };
  const plan = planRegistry({ mode: resolved.registry, bin: resolved.registryBin, binExists, ...facts });
  if (plan.run === "off") parts.push({ part: "registry", state: "off", why: plan.why, fix: plan.fix });
  if (plan.run === "container" && answer) {
    const images = resolved.registryImage ? [resolved.registryImage] : [OFFLINE_REGISTRY_IMAGE, PUBLIC_REGISTRY_IMAGE];
    const present = await Promise.all(images.map((image) => hasImage(answer.docker, image)));
    if (!present.some(Boolean)) {
      parts.push({
        part: "registry",
        state: "not ready",
        why: `${plan.because}, and no registry image (${images.join(", ")}) is in the engine: the emulator will try to pull ${resolved.registryImage ?? PUBLIC_REGISTRY_IMAGE}`,
        fix: resolved.registryImage ? `docker pull ${resolved.registryImage}` : setupCommand(facts),
      });
    }
  }
  if (answer?.check.ok) parts.push(...jobImagesPart(await missingJobImages(answer.docker)));
  return parts;
}

function jobImagesPart(missing: string[]): OffPart[] {
  if (missing.length === 0) return [];
  const one = missing.length === 1;
  return [
    {
      part: "job images",
      state: "missing",
      why: `${missing.join(", ")} ${one ? "is" : "are"} not in the Docker engine (jobs naming ${one ? "it" : "them"} are refused)`,
      fix: "bash images/build.sh",
    },
  ];
}

async function missingJobImages(docker?: HasImages): Promise<string[]> {
  const engine = docker ?? (await import("./jobs/docker-engine.js")).defaultDocker();
  const present = await Promise.all(PROJECT_JOB_IMAGES.map((image) => hasImage(engine, image)));
  return PROJECT_JOB_IMAGES.filter((_, i) => !present[i]);
}

/** The part of Dockerode this module uses. */
interface HasImages {
  getImage(name: string): { inspect(): Promise<unknown> };
}

function hasImage(docker: HasImages, image: string): Promise<boolean> {
  return docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

/** The lines that go at the top of a start-up banner: one block per part that is off; "" when all are on. */
export function offPartsBanner(parts: readonly OffPart[]): string {
  if (parts.length === 0) return "";
  const width = Math.max(...parts.map((p) => p.part.length)) + 2;
  const lines = [`${parts.length === 1 ? "1 part is" : `${parts.length} parts are`} off:`];
  for (const p of parts) {
    lines.push(`  ${p.part.padEnd(width)}${p.state}: ${p.why}`);
    lines.push(`  ${"".padEnd(width)}turn on: ${p.fix}`);
  }
  return `${lines.join("\n")}\n\n`;
}

function firstSentence(text: string): string {
  const line = text.split("\n")[0]!;
  const end = line.search(/\)\. |\. [A-Z]/);
  return end < 0 ? line : line.slice(0, line[end] === ")" ? end + 1 : end);
}
