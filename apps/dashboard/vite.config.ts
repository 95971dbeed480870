// The dashboard's build: a single-page app served by the emulator under /ui/ (apps/emulator/src/http/ui.ts).
// Preact's JSX runtime, hashed asset names (the emulator caches assets/ for a year), no source maps shipped.
// The workspace's packages (@htcemu/client) are bundled from their sources (the @htcemu/source condition, as
// everywhere in the workspace), so the dashboard builds without building them first.
import { defaultClientConditions, defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  resolve: { conditions: ["@htcemu/source", ...defaultClientConditions] },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsDir: "assets",
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `pnpm --filter @htcemu/dashboard dev` against an emulator on the default port.
    proxy: {
      "/api": "http://127.0.0.1:8787",
      "/_emulator": "http://127.0.0.1:8787",
      "/s3": "http://127.0.0.1:8787",
    },
  },
});
