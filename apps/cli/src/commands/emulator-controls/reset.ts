// `htc emulator reset`: remove all state but the default user, or one workspace's.
import type { Command } from "commander";
import { adminClientOf, withEmulatorTarget } from "./admin-client.js";

export function registerReset(emulator: Command): void {
  withEmulatorTarget(
    emulator
      .command("reset")
      .summary("remove all state but the default user (or one workspace's projects, tasks, jobs and objects)")
      .description(
        "remove everything except the default user, its workspace and its API keys (clients configured with that key keep " +
          "working), or with --workspace that workspace's projects, tasks, jobs, limits, policies, repositories and stored " +
          "objects. The clock, the scheduler's pause and the fault rules are left as they are.",
      )
      .option("--workspace <id>", "reset only this workspace"),
  ).action(async (opts: { workspace?: string }, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const removed = await admin.reset(opts.workspace);
    session.out.result(removed, () => {
      session.out.line(opts.workspace === undefined ? "Emulator reset; removed:" : `Workspace ${opts.workspace} reset; removed:`);
      session.out.details([
        ["Workspaces", removed.workspaces],
        ["Users", removed.users],
        ["Projects", removed.projects],
        ["Tasks", removed.tasks],
        ["Jobs", removed.jobs],
        ["Objects", removed.objects],
      ]);
    });
  });
}
