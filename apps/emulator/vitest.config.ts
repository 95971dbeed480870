import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start emulator processes and real containers.
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
