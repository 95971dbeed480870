import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Every test runs the real `htc` in a child process against an emulator started by the test file.
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
