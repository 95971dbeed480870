// `htc workspace clusters|dimensions|limits|retention-policy`: settings of the caller's workspace. The workspace is
// --workspace-id, else HTC_WORKSPACE_ID, else the one the credential acts in (GET /auth/token/whoami), as the
// official CLI takes it from its identity.
import { requireMember, unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { nonEmpty, type Session, sessionOf } from "../context.js";
import { printDimensions } from "./dimensions.js";
import { registerRetentionPolicy } from "./retention-policy.js";

export function registerWorkspaceCommands(program: Command): void {
  const workspace = program
    .command("workspace")
    .description("the workspace's GCP clusters, dimensions, vCPU limit and task retention policy")
    .option("--workspace-id <id>", "the workspace (env HTC_WORKSPACE_ID; default: the one your credential acts in)");

  workspace
    .command("clusters")
    .description("the GCP clusters (and their node pools) that run the workspace's jobs")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const workspaceId = await workspaceIdOf(session);
      const status = await unwrap(
        session.client().api.GET("/htc/gcp/clusters/{workspaceId}", { params: { path: { workspaceId } }, signal: session.signal }),
      );
      session.out.result(status, () => {
        const clusters = status.clusters ?? [];
        if (clusters.length === 0) {
          session.out.info(`no clusters (GCP project ${status.gcpProjectId})`);
          return;
        }
        session.out.table(
          ["project id", "cluster name", "region", "version", "status", "autoscaling", "subnetwork"],
          clusters.map((c) => [status.gcpProjectId, c.name, c.region, c.version, c.status, c.autoscaling, c.subnetwork]),
        );
        for (const c of clusters) {
          const pools = c.nodePools ?? [];
          if (pools.length === 0) continue;
          session.out.line(`\nnode pools of ${c.name}`);
          session.out.table(
            ["name", "version", "instance type", "status", "autoscaling", "min nodes", "max nodes"],
            pools.map((p) => [
              p.name,
              p.version,
              p.instanceType,
              p.status,
              p.autoscaling?.enabled,
              p.autoscaling?.minNodeCount,
              p.autoscaling?.maxNodeCount,
            ]),
          );
        }
      });
    });

  const dimensions = workspace.command("dimensions").description("the compute environments (dimensions) the workspace offers");
  dimensions
    .command("get", { isDefault: true })
    .alias("list")
    .description("list the workspace's dimensions")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const workspaceId = await workspaceIdOf(session);
      const list = await unwrap(
        session.client().api.GET("/htc/workspaces/{workspaceId}/dimensions", { params: { path: { workspaceId } }, signal: session.signal }),
      );
      session.out.result(list, () => printDimensions(session.out, list, "the workspace offers no dimensions"));
    });

  const limits = workspace.command("limits").description("the workspace's vCPU limit (set by Rescale)");
  limits
    .command("get", { isDefault: true })
    .description("show the workspace's vCPU limit (404 when it has none: it is then unlimited)")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const workspaceId = await workspaceIdOf(session);
      const limit = await unwrap(
        session.client().api.GET("/htc/workspaces/{workspaceId}/limits", { params: { path: { workspaceId } }, signal: session.signal }),
      );
      session.out.result(limit, () =>
        session.out.details([
          ["Workspace", limit.workspaceId],
          ["vCPUs", limit.vCPUs],
        ]),
      );
    });

  registerRetentionPolicy(
    workspace,
    {
      name: "workspace",
      get: async (session) => {
        const workspaceId = await workspaceIdOf(session);
        return unwrap(
          session
            .client()
            .api.GET("/htc/workspaces/{workspaceId}/task-retention-policy", { params: { path: { workspaceId } }, signal: session.signal }),
        );
      },
      put: async (session, body) => {
        const workspaceId = await workspaceIdOf(session);
        return unwrap(
          session.client().api.PUT("/htc/workspaces/{workspaceId}/task-retention-policy", {
            params: { path: { workspaceId } },
            body,
            signal: session.signal,
          }),
        );
      },
    },
    "when tasks of projects without a policy of their own are archived and deleted",
  );
}

/** The workspace of a command: --workspace-id (an option of `workspace`), HTC_WORKSPACE_ID, or the credential's. */
async function workspaceIdOf(session: Session): Promise<string> {
  const given = nonEmpty((session.globals as { workspaceId?: string }).workspaceId) ?? nonEmpty(session.env["HTC_WORKSPACE_ID"]);
  if (given) return given;
  const claims = await unwrap(session.client().api.GET("/auth/token/whoami", { signal: session.signal }));
  return requireMember(claims, "workspaceId", "the answer of GET /auth/token/whoami");
}
