// What is off in an emulator, and the one command that turns each part on: the Docker executor (jobs simulated
// instead), the project registries, the job images the examples use. Printed at the top of what `htc-emulator`,
// `htc emulator start`, `pnpm demo` and `pnpm tutorial` print, so that nothing is off without the user knowing.
import { machineFacts, setupCommand } from "./registry/placement.js";

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
    return { part: "jobs", state: "simulated", why: "--executor simulated was given", fix: "start the emulator without --executor simulated" };
  }
  return { part: "jobs", state: "simulated", why: firstSentence(because ?? "no Docker engine answers"), fix: engineCommand(because) };
}

/** The one command that gets a Docker engine to answer here. */
export function engineCommand(reason: string | undefined, facts = machineFacts()): string {
  if (facts.platform === "darwin" || facts.platform === "win32") return "start Docker Desktop (install it from https://docs.docker.com/desktop/)";
  if (reason?.includes("EACCES")) return 'sudo usermod -aG docker "$USER" (then log in again)';
  if (process.env.DOCKER_HOST) return `start the engine at DOCKER_HOST=${process.env.DOCKER_HOST}, or unset DOCKER_HOST`;
  return facts.apt ? setupCommand({ ...facts, engine: undefined }) : "install and start Docker Engine (https://docs.docker.com/engine/install/)";
}

/**
 * The parts that are off in a running emulator: what it found at start (`off`), and, when jobs run in Docker, the
 * project's job images that are not in the engine.
 */
export async function offParts(emulator: { off: readonly OffPart[]; executor: string }): Promise<OffPart[]> {
  const parts = [...emulator.off];
  if (emulator.executor === "docker") {
    const missing = await missingJobImages();
    if (missing.length > 0) {
      parts.push({
        part: "job images",
        state: "missing",
        why: `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not in the Docker engine (jobs naming ${missing.length === 1 ? "it" : "them"} are refused)`,
        fix: "bash images/build.sh",
      });
    }
  }
  return parts;
}

async function missingJobImages(): Promise<string[]> {
  const { defaultDocker } = await import("./jobs/docker-engine.js");
  const docker = defaultDocker();
  const present = await Promise.all(
    PROJECT_JOB_IMAGES.map((image) =>
      docker
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ),
  );
  return PROJECT_JOB_IMAGES.filter((_, i) => !present[i]);
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
