// `htc emulator snapshot export|import`: save the emulator's whole state to a file, or replace it with one.
import { once } from "node:events";
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HtcApiError } from "@htcemu/client";
import type { Command } from "commander";
import { CliError, ExitCode, usageError } from "../../errors.js";
import { adminClientOf, withEmulatorTarget } from "./admin-client.js";

export function registerSnapshot(emulator: Command): void {
  const snapshot = emulator.command("snapshot").description("save the emulator's whole state to a file, or replace it with one");

  withEmulatorTarget(
    snapshot
      .command("export")
      .argument("[file]", "the file (- for stdout; default: the name the emulator suggests, in the current folder)")
      .description("write a snapshot of the whole state (database and stored objects, gzip) to a file"),
  ).action(async (output: string | undefined, _opts, command: Command) => {
    const { admin, session } = adminClientOf(command);
    if (output === "-" && process.stdout.isTTY)
      throw usageError("a snapshot is binary: not writing it to a terminal", "name a file, or redirect stdout");
    const { data, response } = await admin.api.GET("/snapshot", { parseAs: "stream" });
    if (!response.ok || !data) throw await HtcApiError.fromResponse(response, { method: "GET", url: response.url });
    // The transport's abort covers the wait for the headers; Ctrl-C also ends the body's download.
    const body = Readable.fromWeb(data as Parameters<typeof Readable.fromWeb>[0], { signal: session.signal });
    if (output === "-") {
      for await (const chunk of body) if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
      return;
    }
    const file = resolve(output ?? suggestedName(response.headers.get("content-disposition")));
    // Written next to the target and renamed, so an interrupted export never leaves half a snapshot under its name.
    const partial = `${file}.${process.pid}.part`;
    try {
      await pipeline(body, createWriteStream(partial), { signal: session.signal });
      renameSync(partial, file);
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
    const bytes = statSync(file).size;
    session.out.result({ file, bytes }, () => session.out.line(`Snapshot written to ${file} (${bytes} bytes)`));
  });

  withEmulatorTarget(
    snapshot
      .command("import")
      .argument("<file>", "a snapshot file (- for stdin)")
      .description("replace the whole state with a snapshot (attempts in flight are stopped; fault rules are kept)"),
  ).action(async (file: string, _opts, command: Command) => {
    const { admin, session } = adminClientOf(command);
    let stream: Readable;
    if (file === "-") stream = process.stdin;
    else {
      try {
        if (!statSync(file).isFile()) throw new Error("not a file");
      } catch (error) {
        throw new CliError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`,
          ExitCode.EXTERNAL,
        );
      }
      stream = createReadStream(file);
    }
    const summary = await admin.importSnapshot(Readable.toWeb(stream) as ReadableStream<Uint8Array>);
    session.out.result(summary, () => {
      session.out.line(`Snapshot ${file === "-" ? "from stdin" : file} imported; the emulator now holds:`);
      session.out.details([
        ["Workspaces", summary.workspaces],
        ["Projects", summary.projects],
        ["Tasks", summary.tasks],
        ["Jobs", summary.jobs],
        ["Objects", summary.objects],
        ["Clock", summary.clock.now],
      ]);
    });
  });
}

/** The file name of `Content-Disposition: attachment; filename="…"` (its last path part), or a made-up one. */
function suggestedName(disposition: string | null): string {
  const name = disposition?.match(/filename="?([^";]+)"?/)?.[1];
  const safe = name ? basename(name) : "";
  return safe && safe !== "." && safe !== ".." ? safe : `htc-emulator-${new Date().toISOString().replace(/[:.]/g, "-")}.snapshot`;
}
