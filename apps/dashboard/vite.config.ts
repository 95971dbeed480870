// The dashboard's build: a single-page app served by the emulator under /ui/ (apps/emulator/src/http/ui.ts).
// Preact's JSX runtime, hashed asset names (the emulator caches assets/ for a year), no source maps shipped.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
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
