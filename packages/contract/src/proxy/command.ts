// `htc emulator proxy`: the proxy as a long-running command that prints where to point clients, runs until
// interrupted, then prints the drift summary and where the report is.
import { resolve } from "node:path";
import { type Contract, loadContract } from "../contract.js";
import type { DriftReport } from "./drift.js";
import { replaceExtension } from "./report-files.js";
import { type ContractProxyOptions, startContractProxy } from "./server.js";
import { formatDriftSummary } from "./summary.js";

/** Where `htc emulator proxy` writes its drift report without `--report`, relative to the working folder. */
export const DEFAULT_DRIFT_REPORT = "htc-drift-report.json";

export interface ProxyCommandOptions extends Omit<ContractProxyOptions, "contract" | "log"> {
  /** File for the JSON drift report (default: DEFAULT_DRIFT_REPORT in `cwd`); the summary goes next to it. */
  report?: string;
  /** The folder relative `report` and `summary` paths are resolved from (default: the process's). */
  cwd?: string;
  /** A contract file to use instead of the bundled one. */
  contract?: string | Contract;
  /** Where lines go (default: stdout). */
  print?: (line: string) => void;
  /** Stops the proxy when aborted; without it SIGINT and SIGTERM stop it. */
  signal?: AbortSignal;
}

/**
 * Starts the proxy, prints where it listens and how to point a client at it, runs until SIGINT/SIGTERM (or
 * `signal`), then writes the report and prints the summary and where the report is. Resolves with the final
 * report. The report is always written: a session whose drift is only printed is lost with the terminal.
 */
export async function runProxyCommand(options: ProxyCommandOptions): Promise<DriftReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const contract = typeof options.contract === "string" ? loadContract(options.contract) : options.contract;
  const { signal, print: _print, contract: _contract, cwd = process.cwd(), ...rest } = options;
  // Absolute, so the path printed at the end is the file's wherever the command was started.
  const report = resolve(cwd, options.report ?? DEFAULT_DRIFT_REPORT);
  const summary = options.summary === undefined ? replaceExtension(report, ".txt") : resolve(cwd, options.summary);
  const proxy = await startContractProxy({ ...rest, report, summary, ...(contract ? { contract } : {}), log: print });
  const apiBase = `${proxy.url}/api/v1`;
  print(`point clients at ${apiBase} (for example HTC_BASE_URL=${apiBase}); stop with Ctrl-C`);
  await stopRequested(signal);
  const final = await proxy.stop();
  print("");
  print(formatDriftSummary(final).trimEnd());
  print(`report written to ${report} (summary: ${summary})`);
  return final;
}

/** Resolves when `signal` aborts or, without one, on the first SIGINT or SIGTERM. */
function stopRequested(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal) {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
