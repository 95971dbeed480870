// A real browser for the end-to-end tests and the bench: Debian's Chromium (`apt-get install chromium`, which
// scripts/bootstrap.sh does on Linux), driven headless by playwright-core. No browser is downloaded: the binary is
// taken from PATH (or HTC_CHROMIUM). Flags keep it off the network (this machine has none but loopback) and
// away from any profile of its own.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

export function chromiumPath(): string {
  if (process.env.HTC_CHROMIUM) return process.env.HTC_CHROMIUM;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch {
      // next
    }
  }
  throw new Error(
    "No Chromium on PATH: install Debian's package (`apt-get install -y --no-install-recommends chromium`, as scripts/bootstrap.sh does) or set HTC_CHROMIUM.",
  );
}

export interface RunningBrowser {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<RunningBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "htc-dashboard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
  });
  return {
    browser: context.browser()!,
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
