// The command line's translation of flags and HTC_EMULATOR_* variables into startEmulator() options.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { addEmulatorOptions, type EmulatorFlags, invocationDir, startOptionsFromFlags } from "../src/cli-options.js";
import { emulatorOptionsSchema } from "../src/options.js";

const touched = ["HTC_EMULATOR_IN_MEMORY", "HTC_EMULATOR_STRICT", "HTC_EMULATOR_LOG_REQUESTS"];
const saved = Object.fromEntries(touched.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of touched) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

function parse(argv: string[]): EmulatorFlags {
  const command = addEmulatorOptions(new Command("t").exitOverride());
  command.parse(argv, { from: "user" });
  return command.opts<EmulatorFlags>();
}

describe("boolean flags and their variables", () => {
  it("reads 0/false/off as off and 1/true as on", () => {
    process.env.HTC_EMULATOR_IN_MEMORY = "0";
    process.env.HTC_EMULATOR_STRICT = "false";
    process.env.HTC_EMULATOR_LOG_REQUESTS = "off";
    let options = startOptionsFromFlags(parse([]));
    expect([options.inMemory, options.strict, options.logRequests]).toEqual([false, false, false]);
    expect(options.dataDir).toBeDefined();

    process.env.HTC_EMULATOR_IN_MEMORY = "1";
    process.env.HTC_EMULATOR_STRICT = "true";
    process.env.HTC_EMULATOR_LOG_REQUESTS = "yes";
    options = startOptionsFromFlags(parse([]));
    expect([options.inMemory, options.strict, options.logRequests]).toEqual([true, true, true]);
    expect(options.dataDir).toBeUndefined();
  });

  it("lets the flag win over its variable", () => {
    process.env.HTC_EMULATOR_STRICT = "0";
    expect(startOptionsFromFlags(parse(["--strict"])).strict).toBe(true);
  });
});

describe("containers on stop", () => {
  it("detaches them when a data dir keeps the state, stops them when in memory", () => {
    expect(startOptionsFromFlags(parse(["--data-dir", "/tmp/x"])).detachJobsOnStop).toBe(true);
    expect(startOptionsFromFlags(parse(["--in-memory"])).detachJobsOnStop).toBe(false);
  });
});

describe("defaults", () => {
  it("are the library's (one place)", () => {
    const flags = parse([]);
    const library = emulatorOptionsSchema.parse({});
    expect(flags.host).toBe(library.host);
    expect(Number(flags.tokenLifetime)).toBe(library.tokenLifetimeSeconds);
    expect(flags.executor).toBe(library.executor);
    expect(flags.registry).toBe(library.registry);
    expect(flags.registryBin).toBe(library.registryBin);
  });
});

describe("relative paths", () => {
  it("resolve from the folder pnpm was invoked in when running as the package script", () => {
    const pkg = mkdtempSync(join(tmpdir(), "htc-pkg-"));
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "@htcemu/emulator" }));
    const shell = mkdtempSync(join(tmpdir(), "htc-shell-"));
    expect(invocationDir(pkg, { INIT_CWD: shell, npm_package_name: "@htcemu/emulator" })).toBe(shell);
    // A child process started elsewhere inherits INIT_CWD: its own folder counts.
    const elsewhere = mkdtempSync(join(tmpdir(), "htc-else-"));
    expect(invocationDir(elsewhere, { INIT_CWD: shell, npm_package_name: "@htcemu/emulator" })).toBe(elsewhere);
    expect(invocationDir(pkg, {})).toBe(pkg);
  });

  it("give an absolute data dir", () => {
    const options = startOptionsFromFlags(parse(["--data-dir", "state"]));
    expect(options.dataDir).toBe(resolve(invocationDir(), "state"));
  });
});
