import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start emulator processes and real containers.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
