import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // beforeAll packs six packages and installs them (and jest, vitest, TypeScript) with npm, which may compile
    // better-sqlite3: minutes on a cold npm cache.
    hookTimeout: 900_000,
    testTimeout: 180_000,
  },
});
