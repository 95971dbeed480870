// Provider resource and catalogues: regions, regional storages, GCP clusters and the Prometheus metrics.
import { isoTime } from "../clock.js";
import type { Sent } from "../contract-types.js";
import { regionCatalog, regionInfo, type RegionInfo, supportedRegions } from "../domain/catalog.js";
import { renderMetrics } from "../domain/metrics.js";
import type { AppContext } from "../http/env.js";
import { notFound } from "../errors.js";
import type { HtcApi } from "../http/router.js";
import { getRegionsQuery } from "../schemas/provider.js";
import { storageNameOf } from "../storage/layout.js";
import { ownWorkspace } from "./workspace.js";

/** The catalogue comes from configuration (no user changed it); its "last changed" time is the workspace's creation. */
function regionView(c: AppContext, r: RegionInfo): Sent<"HTCRegionAdminSettings"> {
  return {
    region: r.region,
    enabled: r.enabled,
    weight: r.weight,
    updatedBy: null,
    updatedAt: isoTime(c.get("principal").workspace.created_at),
    supportedArchitectures: r.supportedArchitectures,
    cloudProvider: r.provider,
  };
}

/** `{region}` is limited to the supported regions; others are unknown here (404), like production. */
function pathRegion(c: AppContext): RegionInfo {
  const region = c.req.param("region")!;
  const info = (supportedRegions as readonly string[]).includes(region) ? regionInfo(region) : undefined;
  if (!info) throw notFound(`Region ${region} is not known.`);
  return info;
}

function storageOption(r: RegionInfo) {
  return { storageName: storageNameOf(r.region), region: r.region, provider: r.provider };
}

export function registerProviderRoutes(api: HtcApi): void {
  api.add({
    operationId: "getRegions",
    method: "GET",
    path: "/htc/regions",
    query: getRegionsQuery,
    jobToken: "any",
    handler: (c, { query }) =>
      regionCatalog
        .filter(
          (r) =>
            (query.cloudProvider === undefined || r.provider === query.cloudProvider) &&
            (query.enabled === undefined || r.enabled === query.enabled),
        )
        .map((r) => regionView(c, r)),
  });

  api.add({
    operationId: "getRegion",
    method: "GET",
    path: "/htc/regions/{region}",
    jobToken: "any",
    handler: (c) => regionView(c, pathRegion(c)),
  });

  api.add({
    operationId: "getStorages",
    method: "GET",
    path: "/htc/storage",
    handler: () => regionCatalog.filter((r) => r.enabled).map(storageOption),
  });

  api.add({
    operationId: "getStorageForRegion",
    method: "GET",
    path: "/htc/storage/region/{region}",
    handler: (c) => {
      const info = pathRegion(c);
      if (!info.enabled) throw notFound(`Region ${info.region} is not enabled for the workspace.`);
      return storageOption(info);
    },
  });

  api.add({
    operationId: "getGCPClusters",
    method: "GET",
    path: "/htc/gcp/clusters/{workspaceId}",
    handler: (c) => {
      const workspace = ownWorkspace(c);
      const clusters = regionCatalog
        .filter((r) => r.enabled && r.provider === "GCP")
        .map((r) => {
          const location = r.region.slice(4).toLowerCase().replace(/_/g, "-");
          return {
            name: `htc-${location}`,
            region: r.region,
            version: "1.30.5-gke.1014001",
            status: "RUNNING",
            subnetwork: `htc-${location}-subnet`,
            autoscaling: "BALANCED" as const,
            nodePools: ["t2d-standard-16", "t2a-standard-8"].map((instanceType) => ({
              name: `pool-${instanceType}`,
              version: "1.30.5-gke.1014001",
              instanceType,
              status: "RUNNING",
              autoscaling: { enabled: true, minNodeCount: 0, maxNodeCount: 100 },
            })),
          };
        });
      return { gcpProjectId: `htc-emulator-${workspace.id}`, clusters };
    },
  });

  api.add({
    operationId: "getMetrics",
    method: "GET",
    path: "/htc/metrics",
    handler: (c) => {
      c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return renderMetrics(c.get("core"), c.get("principal").workspace.id);
    },
  });
}
