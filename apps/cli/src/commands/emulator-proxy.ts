// `htc emulator proxy`: the contract-checking reverse proxy of @htcemu/contract. Clients talk to the proxy, the proxy
// forwards everything unchanged to the target (production or an emulator) and reports where the target's answers
// (and the clients' requests) differ from the contract.
import type { Command } from "commander";
import { sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import { durationOption, intOption } from "./common.js";

interface ProxyFlags {
  target: string;
  port: number;
  host: string;
  report?: string;
  summary?: string;
  reportInterval: number;
  preserveHost?: boolean;
  contract?: string;
}

export function registerProxyCommand(emulator: Command): void {
  emulator
    .command("proxy")
    .summary("check a server against the contract through a reverse proxy (Ctrl-C stops it and writes the report)")
    .description(
      "listen on --host:--port and forward every request unchanged to --target (production or an emulator), " +
        "validating copies of both bodies against the contract in the background; on SIGINT/SIGTERM write the drift " +
        "report (--report, default htc-drift-report.json in the working folder; JSON, plus a .txt summary next to it) and " +
        "print the summary and the report's path. With --json the final report " +
        "is printed as JSON and the proxy's own lines go to stderr",
    )
    .requiredOption("--target <url>", "where requests go: an origin or a base URL, e.g. https://htc.rescale.com/api/v1")
    .option("--port <port>", "port to listen on (0 picks a free one)", intOption(0, 65535), 8788)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--report <file>", "write the drift report (JSON) there, and its summary next to it (.txt) (default: htc-drift-report.json)")
    .option("--summary <file>", "write the readable summary there instead of next to the report")
    .option(
      "--report-interval <duration>",
      "how often the report files are rewritten while running (0: only on stop)",
      durationOption({ unit: "ms", plain: "s" }),
      30_000,
    )
    .option(
      "--preserve-host",
      "send the client's Host header to the target (the emulator's `next` links then point at the proxy; wrong for production)",
    )
    .option("--contract <file>", "check against this OpenAPI document instead of the bundled contract")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  htc emulator proxy --target https://htc.rescale.com/api/v1 --report drift.json",
        "  HTC_BASE_URL=http://127.0.0.1:8788/api/v1 htc project list   # in another terminal",
      ].join("\n"),
    )
    .action(async (flags: ProxyFlags, command: Command) => {
      const session = sessionOf(command);
      let target: URL;
      try {
        target = new URL(flags.target);
      } catch {
        throw usageError(`invalid --target ${JSON.stringify(flags.target)}: give an http(s) URL`);
      }
      if (target.protocol !== "http:" && target.protocol !== "https:")
        throw usageError(`invalid --target ${target.href}: give an http(s) URL`);

      // SIGINT aborts the session (the program's handler); SIGTERM is listened for here, before the proxy prints
      // where it listens, so that a signal sent right after that line stops it cleanly.
      const terminated = new AbortController();
      const onTerm = () => terminated.abort();
      process.on("SIGTERM", onTerm);
      try {
        // Loaded here: the contract and its validator are only needed by this command.
        const { runProxyCommand } = await import("@htcemu/contract");
        const print = session.out.machine ? (line: string) => session.out.info(line) : (line: string) => session.out.line(line);
        const report = await runProxyCommand({
          target: target.href,
          port: flags.port,
          host: flags.host,
          ...(flags.report ? { report: flags.report } : {}),
          ...(flags.summary ? { summary: flags.summary } : {}),
          reportIntervalMs: flags.reportInterval,
          preserveHost: Boolean(flags.preserveHost),
          ...(flags.contract ? { contract: flags.contract } : {}),
          print,
          signal: AbortSignal.any([session.signal, terminated.signal]),
        });
        if (session.out.machine) session.out.print(report);
      } finally {
        process.off("SIGTERM", onTerm);
      }
    });
}
