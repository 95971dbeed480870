// vitest's globalSetup for the suites that run htcemu/emulator (tests/image, @htcemu/testcontainers,
// examples/python): builds the image when it is missing or stale, and tells the tests through
// `inject("imageUnavailable")` why it cannot be had ("" when it can). Without a Docker engine they skip with that
// reason, unless HTC_REQUIRE_DOCKER=1 makes it an error. Each suite's tsconfig includes this file for the type.
import type { TestProject } from "vitest/node";
import { ensureEmulatorImage } from "./ensure.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    imageUnavailable: string;
  }
}

export default function setup(project: TestProject): void {
  const image = ensureEmulatorImage();
  project.provide("imageUnavailable", image.ok ? "" : image.reason);
}
