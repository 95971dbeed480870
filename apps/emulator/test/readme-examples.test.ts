// The README's examples are real code: the vitest one is run as readme-vitest-example.test.ts and must stay
// identical to what the README shows. The jest, node:test and script examples of "Use it in your project" are run
// from the packed packages by tests/outside.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../src/index.js";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("shows the vitest example exactly as it is tested", () => {
    const file = readFileSync(new URL("./readme-vitest-example.test.ts", import.meta.url), "utf8");
    const code = file.slice(file.indexOf("\n") + 1);
    expect(readme).toContain(`// test/pipeline.test.ts\n${code}`);
  });
});

describe("the beforeAll/afterAll example", () => {
  let htc: RunningEmulator;
  beforeAll(async () => {
    htc = await startEmulator({ executor: "simulated" }); // port 0, in memory: the defaults of the library
  });
  afterAll(() => htc.stop());

  it("gives a configured client and the admin root", async () => {
    const whoami = await htc.client.api.GET("/auth/whoami");
    expect(whoami.response.status).toBe(200);
    expect(htc.rootUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(htc.baseUrl).toBe(`${htc.rootUrl}/api/v1`);
  });
});
