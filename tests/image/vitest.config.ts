import { defineConfig } from "vitest/config";

export default defineConfig({
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["../../images/emulator/vitest-setup.ts"],
    // Building the image on a cold machine packs and installs the packages: a minute or two.
    hookTimeout: 900_000,
    testTimeout: 120_000,
  },
});
