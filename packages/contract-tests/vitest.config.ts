import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file starts its own emulator (or talks to a remote target): generous time limits, and one file at a
    // time so the emulators do not compete for the CPU with each other (the bad-input budget is wall-clock time).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
