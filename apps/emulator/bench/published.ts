// The commands and the library as published: what `pnpm build` put in build/ (the files `pnpm pack` ships), run
// with plain node — no tsx, no sources. Rows of the `startup` scenario:
//   - `htc --version` as a process, next to `node -e 0` (the floor: Node's own start-up) on the same machine;
//   - `htc-emulator` as a process, spawn → first answered request;
//   - startEmulator() imported from build/ → first answered request.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bearerToken, median, type Row } from "./common.js";

const HTC = fileURLToPath(new URL("../../cli/bin/htc.js", import.meta.url));
const HTC_EMULATOR = fileURLToPath(new URL("../bin/htc-emulator.js", import.meta.url));
const LIBRARY = fileURLToPath(new URL("../build/index.js", import.meta.url));
const BUILT = [
  fileURLToPath(new URL("../../cli/build/htc.js", import.meta.url)),
  fileURLToPath(new URL("../build/bin/htc-emulator.js", import.meta.url)),
  LIBRARY,
];

/** Missing builds, named so the scenario can say what to run. */
export function missingBuilds(): string[] {
  return BUILT.filter((file) => !existsSync(file));
}

function timeProcess(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${result.status}: ${result.stderr}`);
  return ms;
}

/** Spawn → banner → first answered GET /auth/token, in ms; the process is stopped afterwards. */
async function timeEmulatorProcess(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [HTC_EMULATOR, "--in-memory", "--port", "0", "--executor", "simulated"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const ready = await new Promise<{ baseUrl: string; apiKey: string }>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const baseUrl = /base URL\s+(\S+)/.exec(stdout)?.[1];
        const apiKey = /API key\s+(\S+)/.exec(stdout)?.[1];
        if (baseUrl && apiKey) resolve({ baseUrl, apiKey });
      });
      child.once("exit", (code) => reject(new Error(`htc-emulator exited with ${code}: ${stderr}`)));
    });
    await bearerToken(ready.baseUrl, ready.apiKey);
    return performance.now() - started;
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

/** In a fresh process: import build/index.js, then `runs` starts to the first answered request (ms each). */
function timeLibrary(runs: number): { importMs: number; startsMs: number[] } {
  const script = `
    const t0 = performance.now();
    const { startEmulator } = await import(${JSON.stringify(pathToFileURL(LIBRARY).href)});
    const importMs = performance.now() - t0;
    const startsMs = [];
    for (let i = 0; i < ${runs}; i++) {
      const started = performance.now();
      const emulator = await startEmulator({ inMemory: true, executor: "simulated" });
      const response = await fetch(emulator.baseUrl + "/auth/token", { headers: { authorization: "Token " + emulator.apiKey } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error("token exchange answered " + response.status);
      startsMs.push(performance.now() - started);
      await emulator.stop();
    }
    process.stdout.write(JSON.stringify({ importMs, startsMs }));
  `;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`startEmulator() from build/ failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { importMs: number; startsMs: number[] };
}

export async function publishedStartup(quick: boolean): Promise<{ rows: Row[]; notes: string[] }> {
  const versionRuns = quick ? 7 : 21;
  const floor: number[] = [];
  const version: number[] = [];
  // Interleaved, so a busy moment of the machine hits both alike.
  for (let i = 0; i < versionRuns; i++) {
    floor.push(timeProcess(["-e", "0"]));
    version.push(timeProcess([HTC, "--version"]));
  }
  const processRuns = quick ? 3 : 7;
  const emulatorProcess: number[] = [];
  for (let i = 0; i < processRuns; i++) emulatorProcess.push(await timeEmulatorProcess());
  const library = timeLibrary(quick ? 5 : 10);
  return {
    rows: [
      { figure: "`node -e 0` as a process (the floor)", measured: median(floor), unit: "ms", how: `median of ${versionRuns}` },
      {
        figure: "`htc --version` as a process (bin/htc.js → build/)",
        target: { op: "<", value: 150 },
        measured: median(version),
        unit: "ms",
        how: `median of ${versionRuns}`,
      },
      {
        figure: "`htc-emulator` process spawn → first answered request",
        target: { op: "<", value: 500 },
        measured: median(emulatorProcess),
        unit: "ms",
        how: `median of ${processRuns}`,
      },
      {
        figure: "startEmulator() from build/ → first answered request",
        target: { op: "<", value: 100 },
        measured: median(library.startsMs),
        unit: "ms",
        how: `median of ${library.startsMs.length}`,
      },
      { figure: "  first of those (cold: first start in the process)", measured: library.startsMs[0]!, unit: "ms", how: "one run" },
      { figure: "  import of @htcemu/emulator from build/", measured: library.importMs, unit: "ms", how: "one run" },
    ],
    notes: [
      "published rows: build/ holds exactly the files `pnpm pack` ships (run `pnpm build` first); dependencies resolve through the workspace's node_modules",
      `htc --version runs (ms): ${version.map((ms) => ms.toFixed(0)).join(", ")}; node -e 0: ${floor.map((ms) => ms.toFixed(0)).join(", ")}`,
      `htc-emulator runs (ms): ${emulatorProcess.map((ms) => ms.toFixed(0)).join(", ")}`,
    ],
  };
}
