// `htc project create|get|list|limits|dimensions|retention-policy`.
import { collect, paginate, unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import { time } from "../output.js";
import { type Api, type ApiInput, enumOption, intOption, MODIFIER_ROLES, RESCALE_REGIONS, readJsonInput, repeatableEnum } from "./common.js";

/** Page size of listings, as the official CLI. */
export const PAGE_SIZE = 500;

type Project = Api<"HTCProject">;

export function registerProjectCommands(program: Command): void {
  const project = program.command("project").description("projects, their limits, dimensions and retention policy");

  project
    .command("create")
    .description("create a project")
    .requiredOption("--name <name>", "project name")
    .option("--description <text>", "project description", "")
    .option("--region <region>", "a region of the project (repeatable; default: the workspace's)", repeatableEnum(RESCALE_REGIONS))
    .option("--use", "store the new project id in the current context")
    .action(async (opts: { name: string; description: string; region?: (typeof RESCALE_REGIONS)[number][]; use?: boolean }, command: Command) => {
      const session = sessionOf(command);
      const regions = opts.region;
      const created = await unwrap(
        session.client().api.POST("/htc/projects", {
          body: { projectName: opts.name, projectDescription: opts.description, ...(regions ? { regions } : {}) },
          signal: session.signal,
        }),
      );
      if (opts.use) session.remember({ projectId: created.projectId, taskId: "" });
      session.out.result(created, () => {
        showProject(session.out, created);
        if (opts.use) session.out.info(`project ${created.projectId} is now the default of context ${session.contextName}`);
      });
    });

  project
    .command("get")
    .argument("[projectId]", "project id (default: --project-id, HTC_PROJECT_ID or the context's)")
    .description("show a project")
    .action(async (projectId: string | undefined, _opts, command: Command) => {
      const session = sessionOf(command);
      const id = session.projectId(projectId);
      const found = await unwrap(session.client().api.GET("/htc/projects/{projectId}", { params: { path: { projectId: id } }, signal: session.signal }));
      session.out.result(found, () => showProject(session.out, found));
    });

  project
    .command("list")
    .alias("ls")
    .description("list projects")
    .option("--mine", "only the projects you created")
    .action(async (opts: { mine?: boolean }, command: Command) => {
      const session = sessionOf(command);
      const projects = await collect(
        paginate(session.client(), "/htc/projects", { params: { query: { onlyMyProjects: Boolean(opts.mine) } } }, { pageSize: PAGE_SIZE, signal: session.signal }),
        { limit: Number.MAX_SAFE_INTEGER },
      );
      session.out.result(projects, () => {
        const current = safe(() => session.projectId());
        session.out.table(
          ["", "id", "name", "regions", "created by", "created"],
          projects.map((p) => [p.projectId === current ? "*" : "", p.projectId, p.projectName, (p.regions ?? []).join(","), p.createdBy, time(p.createdAt)]),
        );
      });
    });

  // Limits
  const limits = project.command("limits").description("vCPU limits of the project");
  limits
    .command("list", { isDefault: true })
    .alias("get")
    .description("list the project's limits")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const list = await unwrap(session.client().api.GET("/htc/projects/{projectId}/limits", { params: { path: { projectId } }, signal: session.signal }));
      session.out.result(list, () => {
        if (list.length === 0) session.out.info("no project limits (only the workspace limit applies)");
        else session.out.table(["id", "role", "vcpus", "updated by", "updated"], list.map((l) => [l.id, l.modifierRole, l.vCPUs, l.updatedBy, time(l.updatedAt)]));
      });
    });
  limits
    .command("set")
    .description("set a vCPU limit: creates (or replaces) the limit of --role, or changes limit --id")
    .requiredOption("--vcpus <n>", "vCPUs that jobs of the project may use at once", intOption(0, 999_999))
    .option("--role <role>", `the role that may change the limit (${MODIFIER_ROLES.join(", ")})`, enumOption(MODIFIER_ROLES), "PROJECT_ADMIN")
    .option("--id <id>", "change this existing limit instead", intOption(0))
    .action(async (opts: { vcpus: number; role: (typeof MODIFIER_ROLES)[number]; id?: number }, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const api = session.client().api;
      const limit =
        opts.id === undefined
          ? await unwrap(
              api.POST("/htc/projects/{projectId}/limits", {
                params: { path: { projectId } },
                body: { vCPUs: opts.vcpus, modifierRole: opts.role },
                signal: session.signal,
              }),
            )
          : await unwrap(
              api.PATCH("/htc/projects/{projectId}/limits/{id}", {
                params: { path: { projectId, id: opts.id } },
                body: { vCPUs: opts.vcpus },
                signal: session.signal,
              }),
            );
      session.out.result(limit, () => session.out.line(`Limit ${limit.id}: ${limit.vCPUs} vCPUs (${limit.modifierRole})`));
    });
  limits
    .command("delete")
    .alias("rm")
    .description("delete limit --id, or every limit of the project with --all")
    .option("--id <id>", "the limit to delete", intOption(0))
    .option("--all", "delete every limit of the project")
    .action(async (opts: { id?: number; all?: boolean }, command: Command) => {
      const session = sessionOf(command);
      if ((opts.id === undefined) === !opts.all) throw usageError("pass either --id <id> or --all");
      const projectId = session.projectId();
      const api = session.client().api;
      if (opts.id !== undefined) {
        await unwrap(api.DELETE("/htc/projects/{projectId}/limits/{id}", { params: { path: { projectId, id: opts.id } }, signal: session.signal }));
      } else {
        await unwrap(api.DELETE("/htc/projects/{projectId}/limits", { params: { path: { projectId } }, signal: session.signal }));
      }
      const result = { deleted: opts.id ?? "all", projectId };
      session.out.result(result, () => session.out.line(opts.id !== undefined ? `Deleted limit ${opts.id}` : "Deleted every limit of the project"));
    });

  // Dimensions
  const dimensions = project.command("dimensions").description("compute environments (dimensions) the project's jobs may use");
  dimensions
    .command("get", { isDefault: true })
    .alias("list")
    .description("list the project's dimensions")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const list = await unwrap(session.client().api.GET("/htc/projects/{projectId}/dimensions", { params: { path: { projectId } }, signal: session.signal }));
      session.out.result(list, () => {
        if (list.length === 0) session.out.info("no project dimensions (the workspace's apply)");
        else {
          session.out.table(
            ["region", "machine type", "priority", "architecture", "vcpus", "memory", "hyperthreading"],
            list.map((d) => [d.region, d.machineType, d.priority, d.derived?.architecture, d.derived?.vCPUs, d.derived?.memory, d.hyperthreading]),
          );
        }
      });
    });
  dimensions
    .command("set")
    .argument("<file>", "JSON file with an array of HTCComputeEnvironment, or - for stdin ([] clears them)")
    .description("replace the project's dimensions")
    .action(async (file: string, _opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const body = await readJsonInput(file);
      if (!Array.isArray(body)) throw usageError("dimensions must be a JSON array of compute environments");
      const saved = await unwrap(
        session.client().api.PUT("/htc/projects/{projectId}/dimensions", {
          params: { path: { projectId } },
          body: body as ApiInput<"HTCComputeEnvironment">[],
          signal: session.signal,
        }),
      );
      session.out.result(saved, () => session.out.line(`Project ${projectId} has ${saved.length} dimension(s)`));
    });

  // Retention policy
  const retention = project.command("retention-policy").description("when the project's tasks are archived and deleted");
  retention
    .command("get", { isDefault: true })
    .description("show the project's task retention policy (404 when it has none: the workspace's applies)")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const policy = await unwrap(
        session.client().api.GET("/htc/projects/{projectId}/task-retention-policy", { params: { path: { projectId } }, signal: session.signal }),
      );
      session.out.result(policy, () =>
        session.out.details([
          ["Archive after", `${policy.archiveAfter} h${policy.archiveAfter === 0 ? " (never)" : ""}`],
          ["Delete after", `${policy.deleteAfter} h${policy.deleteAfter === 0 ? " (never)" : ""}`],
          ["Created", time(policy.createdAt)],
        ]),
      );
    });
  retention
    .command("set")
    .description("set the project's task retention policy (hours; 0 disables)")
    .requiredOption("--archive-after <hours>", "archive tasks inactive this long", intOption(0))
    .requiredOption("--delete-after <hours>", "delete tasks archived this long", intOption(0))
    .action(async (opts: { archiveAfter: number; deleteAfter: number }, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const policy = await unwrap(
        session.client().api.PUT("/htc/projects/{projectId}/task-retention-policy", {
          params: { path: { projectId } },
          body: { archiveAfter: opts.archiveAfter, deleteAfter: opts.deleteAfter },
          signal: session.signal,
        }),
      );
      session.out.result(policy, () => session.out.line(`Tasks are archived after ${policy.archiveAfter} h and deleted ${policy.deleteAfter} h later`));
    });
  retention
    .command("delete")
    .alias("rm")
    .description("delete the project's policy (the workspace's applies again)")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      await unwrap(session.client().api.DELETE("/htc/projects/{projectId}/task-retention-policy", { params: { path: { projectId } }, signal: session.signal }));
      session.out.result({ deleted: true, projectId }, () => session.out.line("Deleted the project's retention policy"));
    });
}

function showProject(out: ReturnType<typeof sessionOf>["out"], p: Project): void {
  out.details([
    ["Project", p.projectId],
    ["Name", p.projectName],
    ["Description", p.projectDescription],
    ["Workspace", p.workspaceId],
    ["Organization", p.organizationCode],
    ["Created by", p.createdBy],
    ["Created", time(p.createdAt)],
    ["Regions", p.regions ?? []],
    ["Registry", p.containerRegistry],
    ["Repositories", p.repositories ?? []],
    ["Folder", p.projectFolderPath],
  ]);
}

function safe(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
