// `htc version`: the version of this command line, of the client under it, and of the Node.js that runs it (the
// official CLI's `htc version`; `htc --version` prints the bare number).
import { CLIENT_VERSION } from "@htcemu/client";
import type { Command } from "commander";
import { CLI_VERSION, sessionOf } from "../context.js";

export function registerVersionCommand(program: Command): void {
  program
    .command("version")
    .description("print the version of htc (and of its client and Node.js)")
    .action((_opts, command: Command) => {
      const session = sessionOf(command);
      const info = { version: CLI_VERSION, client: CLIENT_VERSION, node: process.version, platform: process.platform, arch: process.arch };
      session.out.result(info, () =>
        session.out.line(
          `htc CLI version: ${CLI_VERSION} (@htcemu/cli, client ${CLIENT_VERSION}; Node ${process.version} ${process.platform}/${process.arch})`,
        ),
      );
    });
}
