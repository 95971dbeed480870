import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Every test runs the real `htc` in a child process against an emulator started by the test file.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
