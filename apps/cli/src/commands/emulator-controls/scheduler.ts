// `htc emulator scheduler status|pause|resume`: pause and resume the emulator's admission and dispatch of jobs.
import type { AdminClient } from "@htcemu/client/admin";
import type { Command } from "commander";
import { sessionOf } from "../../context.js";
import { adminClientOf, withEmulatorTarget } from "./admin-client.js";

export function registerScheduler(emulator: Command): void {
  const scheduler = emulator.command("scheduler").description("pause and resume the emulator's scheduler (admission and dispatch of jobs)");
  const show = (command: Command, state: Awaited<ReturnType<AdminClient["scheduler"]>>) => {
    const { out } = sessionOf(command);
    out.result(state, () =>
      out.details([
        ["Paused", state.paused],
        ["Executing", state.executing],
        ["Held", state.held],
        ["Stepped", state.stepped],
      ]),
    );
  };
  withEmulatorTarget(
    scheduler.command("status", { isDefault: true }).description("whether the scheduler is paused, and the jobs it handles"),
  ).action(async (_opts, command: Command) => show(command, await adminClientOf(command).admin.scheduler()));
  withEmulatorTarget(
    scheduler
      .command("pause")
      .description("stop admitting and dispatching jobs (attempts already running go on); needed by `htc emulator step`"),
  ).action(async (_opts, command: Command) => show(command, await adminClientOf(command).admin.pause()));
  withEmulatorTarget(
    scheduler.command("resume").description("admit and dispatch jobs again; stepped jobs continue from where they were left"),
  ).action(async (_opts, command: Command) => show(command, await adminClientOf(command).admin.resume()));
}
