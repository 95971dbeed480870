// The dashboard (apps/dashboard, package @htcemu/dashboard), served at /ui/ from its build output: found at run time
// through the package (so it works from the workspace and from the published emulator, which depends on it), or
// from --dashboard-dir. Files are read once and kept in memory with their gzip form (the build is a few hundred
// kB); hashed assets are cached for a year, index.html is revalidated by its ETag. Any other path under /ui/ is a
// route of the single-page app and gets index.html; a missing file under assets/ is a 404.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import type { Hono } from "hono";
import type { AppEnv } from "./env.js";

export const UI_PREFIX = "/ui/";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  gzip?: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
  immutable: boolean;
}

/** The dashboard's build folder: the option, else the @htcemu/dashboard package's `dist/`; undefined when absent. */
export function dashboardBuildDir(override: string | undefined): string | undefined {
  if (override) return override;
  try {
    const manifest = createRequire(import.meta.url).resolve("@htcemu/dashboard/package.json");
    return join(dirname(manifest), "dist");
  } catch {
    return undefined;
  }
}

const NOT_BUILT =
  "The dashboard is not built: run `pnpm --filter @htcemu/dashboard build` in the repository (published packages ship it built).";

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const path = relative(dir, file).split(sep).join("/");
        const body = new Uint8Array(readFileSync(file));
        const type = TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
        const compressible = /^text\/|json|svg/.test(type) && body.byteLength > 1024;
        assets.set(path, {
          body,
          ...(compressible ? { gzip: new Uint8Array(gzipSync(body, { level: 9 })) } : {}),
          type,
          etag: `"${createHash("sha1").update(body).digest("base64url")}"`,
          // Vite names every built asset by its content's hash.
          immutable: path.startsWith("assets/"),
        });
      }
    }
  };
  walk(dir);
  return assets;
}

export function registerUi(app: Hono<AppEnv>, dir: string | undefined): void {
  let assets: Map<string, Asset> | undefined;
  const load = (): Map<string, Asset> | undefined => {
    if (assets) return assets;
    if (!dir || !existsSync(join(dir, "index.html"))) return undefined; // looked up again: a build may appear later
    assets = loadAssets(dir);
    return assets;
  };

  app.get(UI_PREFIX.slice(0, -1), (c) => c.redirect(UI_PREFIX, 301));
  app.get(`${UI_PREFIX}*`, (c) => {
    const files = load();
    if (!files) return c.text(NOT_BUILT, 404);
    const path = decodeURIComponent(c.req.path.slice(UI_PREFIX.length));
    let asset = files.get(path);
    if (!asset) {
      if (path.startsWith("assets/") || /\.(js|css|map|png|svg|ico|woff2)$/.test(path))
        return c.text(`No such file of the dashboard: ${path}`, 404);
      asset = files.get("index.html")!;
    }
    c.header("Content-Type", asset.type);
    c.header("ETag", asset.etag);
    c.header("Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    c.header("X-Content-Type-Options", "nosniff");
    if (asset.gzip) c.header("Vary", "Accept-Encoding");
    if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304);
    if (asset.gzip && /\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      c.header("Content-Encoding", "gzip");
      return c.body(asset.gzip);
    }
    return c.body(asset.body);
  });
}
