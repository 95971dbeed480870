// Builds htcemu/emulator when it is missing or stale; the suites that need it skip with the reason when no Docker
// engine answers (unless HTC_REQUIRE_DOCKER=1).
import type { TestProject } from "vitest/node";
import { ensureEmulatorImage } from "../../../images/emulator/ensure.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    imageUnavailable: string;
  }
}

export default function setup(project: TestProject): void {
  const image = ensureEmulatorImage();
  project.provide("imageUnavailable", image.ok ? "" : image.reason);
}
