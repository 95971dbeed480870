// What the emulated cloud offers: regions with their providers and architectures, the machine types of each
// region (the workspace "dimensions"; each enabled region also has a storage bucket, see storage/layout.ts).
// Production configures these per workspace; the emulator gives every workspace the same catalogue.
import type { components, Sent } from "../contract-types.js";

type Schemas = components["schemas"];
export type Architecture = Schemas["Architecture"];
export type CloudProvider = Schemas["CloudProvider"];
export type JobPriority = Schemas["JobPriority"];

/** The regions a `{region}` path parameter may name (upstream's `SupportedRescaleRegion`). */
export const supportedRegions = [
  "AWS_AP_SOUTHEAST_1",
  "AWS_CA_CENTRAL_1",
  "AWS_EU_NORTH_1",
  "AWS_EU_CENTRAL_1",
  "AWS_EU_WEST_1",
  "AWS_EU_WEST_2",
  "AWS_EU_WEST_3",
  "AWS_SA_EAST_1",
  "AWS_US_EAST_2",
  "AWS_US_WEST_2",
  "AWS_US_EAST_1",
  "GCP_ASIA_SOUTHEAST_1",
  "GCP_US_CENTRAL_1",
  "GCP_US_EAST_1",
  "GCP_US_EAST_2",
  "GCP_US_EAST_4",
  "GCP_US_WEST_1",
  "GCP_US_WEST_4",
  "GCP_EU_WEST_1",
  "GCP_EU_WEST_2",
  "GCP_EU_WEST_3",
  "GCP_EU_WEST_4",
  "GCP_CA_CENTRAL_1",
  "AZURE_US_WEST_2",
  "AZURE_US_SOUTHCENTRAL",
] as const satisfies readonly Schemas["SupportedRescaleRegion"][];

/** Every value of upstream's `RescaleRegion`. */
export const allRegions = [
  ...supportedRegions,
  "NGC_ENOCH_1",
  "AZURE_US_EAST_2",
  "AZURE_EU_NORTH",
  "RC_ICELAND_1",
  "COREWEAVE_US_EAST_4",
  "UNASSIGNED",
] as const satisfies readonly Schemas["RescaleRegion"][];

export type Region = (typeof allRegions)[number];

export function providerOf(region: string): CloudProvider {
  const prefix = region.split("_")[0] as CloudProvider;
  return ["AWS", "GCP", "NGC", "AZURE", "RC", "COREWEAVE"].includes(prefix) ? prefix : "UNASSIGNED";
}

export interface RegionInfo {
  region: Region;
  provider: CloudProvider;
  enabled: boolean;
  weight: number;
  supportedArchitectures: Architecture[];
}

/** Regions jobs may use: the supported AWS and GCP regions. The first one is every workspace's default region. */
const enabledRegions: ReadonlySet<string> = new Set(
  ["AWS_US_WEST_2", ...supportedRegions.filter((r) => r !== "AWS_US_WEST_2")].filter(
    (r) => providerOf(r) === "AWS" || providerOf(r) === "GCP",
  ),
);

export const DEFAULT_REGION: Region = "AWS_US_WEST_2";

export const regionCatalog: RegionInfo[] = allRegions.map((region) => {
  const provider = providerOf(region);
  return {
    region,
    provider,
    enabled: enabledRegions.has(region),
    weight: enabledRegions.has(region) ? 1 : 0,
    supportedArchitectures: provider === "AWS" || provider === "GCP" ? ["X86", "AARCH64"] : provider === "NGC" ? ["X86", "A100"] : ["X86"],
  };
});

export function regionInfo(region: string): RegionInfo | undefined {
  return regionCatalog.find((r) => r.region === region);
}

export function isEnabledRegion(region: string): boolean {
  return enabledRegions.has(region);
}

export interface MachineType {
  machineType: string;
  architecture: Architecture;
  vCPUs: number;
  /** GiB */
  memory: number;
}

const machineTypesByProvider: Partial<Record<CloudProvider, MachineType[]>> = {
  AWS: [
    { machineType: "c7g.medium", architecture: "AARCH64", vCPUs: 1, memory: 2 },
    { machineType: "c7g.4xlarge", architecture: "AARCH64", vCPUs: 16, memory: 32 },
    { machineType: "c6i.xlarge", architecture: "X86", vCPUs: 4, memory: 8 },
    { machineType: "c6i.8xlarge", architecture: "X86", vCPUs: 32, memory: 64 },
  ],
  GCP: [
    { machineType: "t2a-standard-8", architecture: "AARCH64", vCPUs: 8, memory: 32 },
    { machineType: "t2d-standard-16", architecture: "X86", vCPUs: 16, memory: 64 },
    { machineType: "n2d-standard-16", architecture: "X86", vCPUs: 16, memory: 64 },
  ],
};

/** `HTCComputeEnvironment`: a machine type of a region at one priority. */
export type ComputeEnvironment = Sent<"HTCComputeEnvironment">;

/** The workspace dimensions: every machine type of every enabled region, at both priorities. */
export const workspaceEnvironments: ComputeEnvironment[] = regionCatalog
  .filter((r) => r.enabled)
  .flatMap((r) =>
    (machineTypesByProvider[r.provider] ?? []).flatMap((m) =>
      (["ON_DEMAND_PRIORITY", "ON_DEMAND_ECONOMY"] as const).map((priority) => ({
        machineType: m.machineType,
        priority,
        region: r.region,
        derived: {
          architecture: m.architecture,
          vCPUs: m.vCPUs,
          memory: m.memory,
          swap: r.provider === "GCP" ? true : null,
        },
        computeScalingPolicy: r.provider === "GCP" ? ("BALANCED" as const) : null,
        hyperthreading: false,
      })),
    ),
  );

export function findEnvironment(machineType: string, priority: string, region: string): ComputeEnvironment | undefined {
  return workspaceEnvironments.find((e) => e.machineType === machineType && e.priority === priority && e.region === region);
}
