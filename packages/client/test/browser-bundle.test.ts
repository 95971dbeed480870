// The core entries are universal: bundled for the browser they pull in no Node built-in and use no Node global, and
// the bundle runs a real exchange in a context that has only the web platform's globals (as in a browser, Deno,
// Bun or a worker). Only `@htcemu/client/node` may use Node.
import { readdirSync, readFileSync } from "node:fs";
import { createContext, runInContext } from "node:vm";
import { build, transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fixture, startFixture } from "./fixture.js";

/** Node's globals: a free reference to one of them would fail outside Node. */
const NODE_GLOBALS: string[] = [
  "process",
  "Buffer",
  "global",
  "__dirname",
  "__filename",
  "require",
  "module",
  "setImmediate",
  "clearImmediate",
];
const marker = (name: string) => `__NODE_GLOBAL_${name}__`;

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [new URL(`../src/${entry}`, import.meta.url).pathname],
    bundle: true,
    write: false,
    platform: "browser",
    format: "iife",
    globalName: "htcClient",
    target: "es2022",
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

describe.each([
  ["index.ts", "createHtcClient"],
  ["admin.ts", "createAdminClient"],
])("the browser bundle of src/%s", (entry, factory) => {
  it("builds: nothing it imports, dependencies included, is a Node built-in", async () => {
    // esbuild cannot resolve `node:` modules for the browser and fails the build.
    await expect(bundle(entry)).resolves.toContain(factory);
  });
});

describe("the client's own modules", () => {
  const srcDir = new URL("../src/", import.meta.url);
  const files = readdirSync(srcDir).filter((f) => f.endsWith(".ts") && f !== "node.ts");

  it.each(files)("%s uses no Node global", async (file) => {
    // Every free use of a Node global becomes a marker (a dependency's guarded `typeof process` checks are its own
    // business: the run below proves they hold outside Node).
    const { code } = await transform(readFileSync(new URL(file, srcDir), "utf8"), {
      loader: "ts",
      define: Object.fromEntries(NODE_GLOBALS.map((name) => [name, marker(name)])),
    });
    expect(NODE_GLOBALS.filter((name) => code.includes(marker(name)))).toEqual([]);
  });
});

describe("the bundled client in a context with only web globals", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture((req) =>
      req.path.endsWith("/auth/token")
        ? { body: { tokenValue: "t-1", expiresIn: 3600 } }
        : { body: { items: [{ projectId: "p1", projectName: "p" }] } },
    );
  });
  afterAll(() => fx.close());

  it("exchanges the key and lists projects", async () => {
    const web = {
      fetch,
      Request,
      Response,
      Headers,
      URL,
      URLSearchParams,
      AbortController,
      AbortSignal,
      TextEncoder,
      TextDecoder,
      Blob,
      FormData,
      ReadableStream,
      DOMException,
      Event,
      EventTarget,
      crypto,
      structuredClone,
      queueMicrotask,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      console,
      atob,
      btoa,
    };
    const context = createContext({ ...web });
    runInContext(await bundle("index.ts"), context);
    const run = runInContext(
      `(async (baseUrl) => {
        const client = htcClient.createHtcClient({ baseUrl, apiKey: "k-1" });
        const page = await htcClient.unwrap(client.api.GET("/htc/projects"));
        return page.items.map((p) => p.projectName);
      })`,
      context,
    ) as (baseUrl: string) => Promise<string[]>;
    expect(await run(fx.baseUrl)).toEqual(["p"]);
    expect(fx.calls("/auth/token")[0]?.authorization).toBe("Token k-1");
    expect(fx.calls("/htc/projects")[0]?.authorization).toBe("Bearer t-1");
  });
});
