// The compute environments (dimensions) of a project or a workspace, shown the same way for both.
import type { Output } from "../output.js";
import type { Api } from "./common.js";

export function printDimensions(out: Output, list: Api<"HTCComputeEnvironment">[], none: string): void {
  if (list.length === 0) {
    out.info(none);
    return;
  }
  out.table(
    ["region", "machine type", "priority", "architecture", "vcpus", "memory", "hyperthreading"],
    list.map((d) => [d.region, d.machineType, d.priority, d.derived?.architecture, d.derived?.vCPUs, d.derived?.memory, d.hyperthreading]),
  );
}
