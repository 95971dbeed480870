// The dashboard behind the admin token (an emulator off loopback, or given --admin-token): /ui/ asks for the
// token, or takes it from the address the emulator printed (`/ui/#token=…`) and forgets it; a wrong token is
// refused with a message.
import { type SpawnedEmulator, spawnEmulator } from "@htcemu/contract/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, type RunningBrowser } from "./browser.js";

const TOKEN = "dashboard-test-token-1234";
let emulator: SpawnedEmulator;
let browser: RunningBrowser;
let page: Page;

beforeAll(async () => {
  emulator = await spawnEmulator({ args: ["--executor", "simulated", "--registry", "off", "--admin-token", TOKEN] });
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await emulator?.stop();
});

describe("signing in to the dashboard", () => {
  it("prints the dashboard's address with the token", () => {
    expect(emulator.output().stdout).toContain(`/ui/#token=${TOKEN}`);
  });

  it("asks for the token, and refuses a wrong one", async () => {
    const response = await page.goto(`${emulator.rootUrl}/ui/`);
    expect(response?.status()).toBe(401);
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The token was not accepted.").waitFor();
    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Workspaces and projects" }).waitFor();
    await page.getByRole("heading", { name: "Emulator Workspace" }).waitFor();
  });

  it("takes the token from the address and removes it from there", async () => {
    await browser.context.clearCookies();
    await page.goto(`${emulator.rootUrl}/ui/controls#token=${TOKEN}`);
    await page.getByRole("heading", { name: "Emulator controls" }).waitFor();
    expect(page.url()).toBe(`${emulator.rootUrl}/ui/controls`);
    await page.getByTestId("scheduler-state").waitFor();
  });
});
