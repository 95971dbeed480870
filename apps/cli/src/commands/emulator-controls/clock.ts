// `htc emulator clock`: read the emulator's clock, move it forward or change its speed.
import { unwrap } from "@htcemu/client";
import { type Command, InvalidArgumentError } from "commander";
import { durationOption, formatSeconds } from "../common.js";
import { adminClientOf, withEmulatorTarget } from "./admin-client.js";

export function registerClock(emulator: Command): void {
  withEmulatorTarget(
    emulator
      .command("clock")
      .summary("read the emulator's clock, move it forward or change its speed")
      .description(
        "print the emulator's time and speed; --advance jumps ahead (token expiry, retention, timeouts), --speed sets how " +
          "many emulated seconds pass per real second from now on. The clock never goes back.",
      )
      .option(
        "--advance <duration>",
        "move the clock forward by this much: 90s, 15m, 6h, 30d, 1h30m (a plain number is seconds)",
        durationOption({ unit: "s" }),
      )
      .option("--speed <factor>", "emulated seconds per real second (> 0)", positiveNumber),
  ).action(async (opts: { advance?: number; speed?: number }, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const changed = opts.advance !== undefined || opts.speed !== undefined;
    const clock = changed
      ? await unwrap(
          admin.api.POST("/clock", {
            body: {
              ...(opts.advance !== undefined ? { advanceSeconds: opts.advance } : {}),
              ...(opts.speed !== undefined ? { speed: opts.speed } : {}),
            },
          }),
        )
      : await admin.clock();
    session.out.result(clock, () =>
      session.out.details([
        ["Now", clock.now],
        ["Speed", clock.speed],
        ...(opts.advance !== undefined ? ([["Advanced", formatSeconds(opts.advance)]] as [string, string][]) : []),
      ]),
    );
  });
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a number greater than 0");
  return n;
}
