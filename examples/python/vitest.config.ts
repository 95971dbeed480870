import { defineConfig } from "vitest/config";

export default defineConfig({
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["../../images/emulator/vitest-setup.ts"],
    // As in @htcemu/testcontainers: an engine without a bridge network needs these; a developer's settings win.
    env: {
      TESTCONTAINERS_HOST_OVERRIDE: process.env.TESTCONTAINERS_HOST_OVERRIDE ?? "127.0.0.1",
      TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? "true",
    },
    testTimeout: 300_000,
    hookTimeout: 900_000,
  },
});
