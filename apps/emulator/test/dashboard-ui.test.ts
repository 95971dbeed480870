// The dashboard's files at /ui/: content types, caching of hashed assets, gzip, ETags, the single-page app's
// fallback to index.html, 404 for a missing asset, and one clear line when the dashboard is not built.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "htc-dashboard-"));
mkdirSync(join(dir, "assets"));
const script = `console.log(${JSON.stringify("x".repeat(4000))});`;
writeFileSync(
  join(dir, "index.html"),
  '<!doctype html><html><head><script type="module" src="/ui/assets/index-abc123.js"></script></head></html>',
);
writeFileSync(join(dir, "assets", "index-abc123.js"), script);
writeFileSync(join(dir, "assets", "index-abc123.css"), "body{margin:0}");

/** A GET with raw bytes back (fetch would undo the gzip). */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on("error", reject)
      .end();
  });
}

describe("a built dashboard", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ executor: "simulated", registry: "off", dashboardDir: dir });
  });
  afterAll(() => emu?.stop());

  it("serves index.html at /ui/ (and redirects /ui), revalidated by its ETag", async () => {
    const redirect = await fetch(`${emu.rootUrl}/ui`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe("/ui/");
    const page = await get(`${emu.rootUrl}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-cache");
    const etag = page.headers.etag as string;
    expect((await get(`${emu.rootUrl}/ui/`, { "if-none-match": etag })).status).toBe(304);
  });

  it("answers every route of the app with index.html", async () => {
    for (const route of ["/ui/projects", "/ui/projects/p/tasks/t/jobs/j", "/ui/no/such/page"]) {
      const page = await get(`${emu.rootUrl}${route}`);
      expect(page.status).toBe(200);
      expect(page.body.toString()).toContain("index-abc123.js");
    }
  });

  it("serves hashed assets with their type, cached for a year, gzipped when asked", async () => {
    const plain = await get(`${emu.rootUrl}/ui/assets/index-abc123.js`);
    expect(plain.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(plain.body.toString()).toBe(script);
    const zipped = await get(`${emu.rootUrl}/ui/assets/index-abc123.js`, { "accept-encoding": "gzip, br" });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers.vary).toBe("Accept-Encoding");
    expect(zipped.body.byteLength).toBeLessThan(plain.body.byteLength / 10);
    expect(gunzipSync(zipped.body).toString()).toBe(script);
    const css = await get(`${emu.rootUrl}/ui/assets/index-abc123.css`);
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
  });

  it("answers 404 for a missing asset instead of the app", async () => {
    const missing = await get(`${emu.rootUrl}/ui/assets/gone-123.js`);
    expect(missing.status).toBe(404);
  });
});

describe("no build", () => {
  it("answers /ui/ with one line on how to build it", async () => {
    const emu = await startEmulator({ executor: "simulated", registry: "off", dashboardDir: join(dir, "missing") });
    try {
      const page = await fetch(`${emu.rootUrl}/ui/`);
      expect(page.status).toBe(404);
      const text = await page.text();
      expect(text).toMatch(/^The dashboard is not built: run `pnpm --filter @htcemu\/dashboard build`/);
      expect(text.split("\n").length).toBe(1);
    } finally {
      await emu.stop();
    }
  });
});
