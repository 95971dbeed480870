import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The tests run the bundled htcctl in child processes (and in containers) against emulators they start.
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
