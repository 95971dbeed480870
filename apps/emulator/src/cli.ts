// The command line: the flags of cli-options.ts (each backed by an HTC_EMULATOR_* variable) → startEmulator().
// `htc emulator start` of @htcemu/cli uses the same pieces, so nothing is configured in two places.
import { Command } from "commander";
import { addEmulatorOptions, type EmulatorFlags, runningBanner, startOptionsFromFlags } from "./cli-options.js";
import { startEmulator } from "./emulator.js";
import { offParts } from "./parts.js";

const program = addEmulatorOptions(new Command("htc-emulator").description("A local emulator of the Rescale HTC API")).action(
  async (flags: EmulatorFlags) => {
    const emulator = await startEmulator({
      ...startOptionsFromFlags(flags),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(runningBanner(emulator, flags, await offParts(emulator)));
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`received ${signal}, stopping\n`);
      emulator.stop().then(
        () => process.exit(0),
        (error) => {
          process.stderr.write(`error while stopping: ${error}\n`);
          process.exit(1);
        },
      );
    };
    process.on("SIGINT", () => shutdown("SIGINT"));
    process.on("SIGTERM", () => shutdown("SIGTERM"));
  },
);

// `pnpm emulator -- --help` hands a literal "--" through; it is not an argument.
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();
program.parseAsync(argv, { from: "user" }).catch((error) => {
  process.stderr.write(`htc-emulator: ${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
});
