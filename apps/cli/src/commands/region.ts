// `htc region get [region]`: the regions of the workspace, from GET /htc/regions (the official CLI prints the
// RescaleRegion enum without asking the API; this one shows what the API says, and `--all-values` the enum).
import { unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { sessionOf } from "../context.js";
import { time } from "../output.js";
import { type Api, CLOUD_PROVIDERS, enumOption, RESCALE_REGIONS, type Schemas } from "./common.js";

type Region = Api<"HTCRegionAdminSettings">;

export function registerRegionCommands(program: Command): void {
  const region = program.command("region").description("regions of the workspace");
  region
    .command("get", { isDefault: true })
    .alias("list")
    .argument("[region]", "one region, e.g. AWS_US_EAST_2")
    .description("list the regions (GET /htc/regions) or show one")
    .option("--provider <provider>", `only regions of this cloud provider (${CLOUD_PROVIDERS.join(", ")})`, enumOption(CLOUD_PROVIDERS))
    .option("--enabled", "only enabled regions")
    .option("--disabled", "only disabled regions")
    .option("--all-values", "print every value of the RescaleRegion enum (no request), like the official CLI")
    .action(
      async (
        name: string | undefined,
        opts: { provider?: Region["cloudProvider"]; enabled?: boolean; disabled?: boolean; allValues?: boolean },
        command: Command,
      ) => {
        const session = sessionOf(command);
        if (opts.allValues) {
          session.out.result([...RESCALE_REGIONS], () => {
            for (const r of RESCALE_REGIONS) session.out.line(r);
          });
          return;
        }
        const api = session.client().api;
        if (name !== undefined) {
          const one = await unwrap(
            api.GET("/htc/regions/{region}", {
              params: { path: { region: name.toUpperCase() as Schemas["SupportedRescaleRegion"] } },
              signal: session.signal,
            }),
          );
          session.out.result(one, () =>
            session.out.details([
              ["Region", one.region],
              ["Provider", one.cloudProvider],
              ["Enabled", one.enabled],
              ["Architectures", one.supportedArchitectures],
              ["Weight", one.weight],
              ["Updated by", one.updatedBy],
              ["Updated", time(one.updatedAt)],
            ]),
          );
          return;
        }
        const enabled = opts.enabled ? true : opts.disabled ? false : undefined;
        const list = await unwrap(
          api.GET("/htc/regions", {
            params: {
              query: { ...(opts.provider ? { cloudProvider: opts.provider } : {}), ...(enabled !== undefined ? { enabled } : {}) },
            },
            signal: session.signal,
          }),
        );
        session.out.result(list, () =>
          session.out.table(
            ["region", "provider", "enabled", "architectures", "weight"],
            list.map((r) => [r.region, r.cloudProvider, r.enabled, r.supportedArchitectures?.join(","), r.weight]),
          ),
        );
      },
    );
}
