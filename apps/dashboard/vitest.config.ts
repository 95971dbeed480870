import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The end-to-end suite starts an emulator process and a browser, and runs 1,000 simulated jobs.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
