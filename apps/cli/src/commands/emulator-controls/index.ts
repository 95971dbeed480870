// The test controls of a running emulator, through its admin API (openapi/admin/admin.yaml) and the typed admin
// client of @htcemu/client: `htc emulator clock|faults|scheduler|step|reset|snapshot`, one file per command group.
import type { Command } from "commander";
import { registerClock } from "./clock.js";
import { registerFaults } from "./faults.js";
import { registerReset } from "./reset.js";
import { registerScheduler } from "./scheduler.js";
import { registerSnapshot } from "./snapshot.js";
import { registerStep } from "./step.js";

export function registerControlCommands(emulator: Command): void {
  registerClock(emulator);
  registerFaults(emulator);
  registerScheduler(emulator);
  registerStep(emulator);
  registerReset(emulator);
  registerSnapshot(emulator);
}
