// `htc project create|get|limits|dimensions|retention-policy`, with the official CLI's command lines
// (`project create PROJECT_JSON|-`, `project get [PROJECT_ID] [-l N]`, `… get|apply FILE`) and this CLI's flags
// (`--name`, `--vcpus`, `--archive-after`, …) as two ways into the same commands.
import { collect, paginate, unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import { type Output, time } from "../output.js";
import {
  type Api,
  type ApiInput,
  enumOption,
  intOption,
  MODIFIER_ROLES,
  RESCALE_REGIONS,
  readJsonInput,
  repeatableEnum,
} from "./common.js";
import { printDimensions } from "./dimensions.js";
import { registerRetentionPolicy } from "./retention-policy.js";

/** Page size of listings, as the official CLI. */
export const PAGE_SIZE = 500;

type Project = Api<"HTCProject">;
type Region = (typeof RESCALE_REGIONS)[number];
type ModifierRole = (typeof MODIFIER_ROLES)[number];

export function registerProjectCommands(program: Command): void {
  const project = program.command("project").description("projects, their limits, dimensions and retention policy");

  project
    .command("create")
    .argument("[projectJson]", "the project as JSON (an HTCProject: projectName, projectDescription, regions), from a file or - for stdin")
    .summary("create a project from a JSON file (or stdin) or from flags")
    .description("create a project from a JSON file, stdin (-) or flags; flags override the JSON's fields")
    .option("--name <name>", "project name")
    .option("--description <text>", "project description (default empty)")
    .option("--region <region>", "a region of the project (repeatable; default: the workspace's)", repeatableEnum(RESCALE_REGIONS))
    .option("--use", "store the new project id in the current context")
    .action(
      async (
        file: string | undefined,
        opts: { name?: string; description?: string; region?: Region[]; use?: boolean },
        command: Command,
      ) => {
        const session = sessionOf(command);
        const body = projectBody(file === undefined ? undefined : await readJsonInput(file), opts);
        const created = await unwrap(session.client().api.POST("/htc/projects", { body, signal: session.signal }));
        if (opts.use) session.remember({ projectId: created.projectId, taskId: "" });
        session.out.result(created, () => {
          showProject(session.out, created);
          if (opts.use) session.out.info(`project ${created.projectId} is now the default of context ${session.contextName}`);
        });
      },
    );

  project
    .command("get")
    .alias("list")
    .alias("ls")
    .argument("[projectId]", "one project; without it, the workspace's projects")
    .description("list the workspace's projects, or show one")
    .option("-l, --limit <n>", "list at most n projects", intOption(1))
    .option("--mine", "only the projects you created")
    .action(async (projectId: string | undefined, opts: { limit?: number; mine?: boolean }, command: Command) => {
      const session = sessionOf(command);
      if (projectId !== undefined) {
        const found = await unwrap(
          session.client().api.GET("/htc/projects/{projectId}", { params: { path: { projectId } }, signal: session.signal }),
        );
        session.out.result(found, () => showProject(session.out, found));
        return;
      }
      const projects = await collect(
        paginate(
          session.client(),
          "/htc/projects",
          { params: { query: { onlyMyProjects: Boolean(opts.mine) } } },
          { pageSize: PAGE_SIZE, signal: session.signal },
        ),
        opts.limit === undefined ? { limit: Number.MAX_SAFE_INTEGER } : { limit: opts.limit, onOverflow: "truncate" },
      );
      session.out.result(projects, () => {
        const current = safe(() => session.projectId());
        session.out.table(
          ["", "id", "name", "regions", "created by", "created"],
          projects.map((p) => [
            p.projectId === current ? "*" : "",
            p.projectId,
            p.projectName,
            (p.regions ?? []).join(","),
            p.createdBy,
            time(p.createdAt),
          ]),
        );
      });
    });

  registerLimits(project);
  registerDimensions(project);
  registerRetentionPolicy(
    project,
    {
      name: "project",
      get: (session) => {
        const projectId = session.projectId();
        return unwrap(
          session
            .client()
            .api.GET("/htc/projects/{projectId}/task-retention-policy", { params: { path: { projectId } }, signal: session.signal }),
        );
      },
      put: (session, body) => {
        const projectId = session.projectId();
        return unwrap(
          session
            .client()
            .api.PUT("/htc/projects/{projectId}/task-retention-policy", { params: { path: { projectId } }, body, signal: session.signal }),
        );
      },
      remove: async (session) => {
        const projectId = session.projectId();
        await unwrap(
          session
            .client()
            .api.DELETE("/htc/projects/{projectId}/task-retention-policy", { params: { path: { projectId } }, signal: session.signal }),
        );
      },
    },
    "when the project's tasks are archived and deleted",
  );
}

function registerLimits(project: Command): void {
  const limits = project.command("limits").description("vCPU limits of the project");
  limits
    .command("get", { isDefault: true })
    .alias("list")
    .description("list the project's limits")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const list = await unwrap(
        session.client().api.GET("/htc/projects/{projectId}/limits", { params: { path: { projectId } }, signal: session.signal }),
      );
      session.out.result(list, () => {
        if (list.length === 0) session.out.info("no project limits (only the workspace limit applies)");
        else
          session.out.table(
            ["id", "role", "vcpus", "updated by", "updated"],
            list.map((l) => [l.id, l.modifierRole, l.vCPUs, l.updatedBy, time(l.updatedAt)]),
          );
      });
    });
  limits
    .command("apply")
    .alias("set")
    .argument("[file]", "JSON file with an HTCLimitCreate (vCPUs, modifierRole), or - for stdin")
    .summary("set a vCPU limit from a JSON file or from flags")
    .description(
      "set a vCPU limit: creates (or replaces) the limit of its role, or with --id changes that limit. From a JSON file " +
        "(HTCLimitCreate), or flags, or both (flags override the file's values)",
    )
    .option("--vcpus <n>", "vCPUs that jobs of the project may use at once", intOption(0, 999_999))
    .option(
      "--role <role>",
      `the role that may change the limit (${MODIFIER_ROLES.join(", ")}; default PROJECT_ADMIN)`,
      enumOption(MODIFIER_ROLES),
    )
    .option("--id <id>", "change this existing limit instead", intOption(0))
    .action(async (file: string | undefined, opts: { vcpus?: number; role?: ModifierRole; id?: number }, command: Command) => {
      const session = sessionOf(command);
      const body = limitBody(file === undefined ? undefined : await readJsonInput(file), opts);
      const projectId = session.projectId();
      const api = session.client().api;
      const limit =
        opts.id === undefined
          ? await unwrap(api.POST("/htc/projects/{projectId}/limits", { params: { path: { projectId } }, body, signal: session.signal }))
          : await unwrap(
              api.PATCH("/htc/projects/{projectId}/limits/{id}", {
                params: { path: { projectId, id: opts.id } },
                body: { vCPUs: body.vCPUs },
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
        await unwrap(
          api.DELETE("/htc/projects/{projectId}/limits/{id}", { params: { path: { projectId, id: opts.id } }, signal: session.signal }),
        );
      } else {
        await unwrap(api.DELETE("/htc/projects/{projectId}/limits", { params: { path: { projectId } }, signal: session.signal }));
      }
      const result = { deleted: opts.id ?? "all", projectId };
      session.out.result(result, () =>
        session.out.line(opts.id !== undefined ? `Deleted limit ${opts.id}` : "Deleted every limit of the project"),
      );
    });
}

function registerDimensions(project: Command): void {
  const dimensions = project.command("dimensions").description("compute environments (dimensions) the project's jobs may use");
  dimensions
    .command("get", { isDefault: true })
    .alias("list")
    .description("list the project's dimensions")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const list = await unwrap(
        session.client().api.GET("/htc/projects/{projectId}/dimensions", { params: { path: { projectId } }, signal: session.signal }),
      );
      session.out.result(list, () => printDimensions(session.out, list, "no project dimensions (the workspace's apply)"));
    });
  dimensions
    .command("apply")
    .alias("set")
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
}

/** The project of a JSON document (if any) with the flags over it. */
export function projectBody(
  json: unknown,
  flags: { name?: string; description?: string; region?: Region[] },
): ApiInput<"HTCProjectCreate"> {
  if (json !== undefined && (!json || typeof json !== "object" || Array.isArray(json))) {
    throw usageError("the project must be a JSON object (an HTCProject: projectName, projectDescription, regions)");
  }
  const base = (json ?? {}) as Partial<ApiInput<"HTCProjectCreate">>;
  const projectName = flags.name ?? base.projectName;
  if (typeof projectName !== "string" || projectName.trim() === "") {
    throw usageError(
      "the project needs a name: give a JSON file with projectName (or - for stdin), or --name",
      "see `htc project create --help`",
    );
  }
  return {
    ...base,
    projectName,
    projectDescription: flags.description ?? base.projectDescription ?? "",
    ...(flags.region ? { regions: flags.region } : {}),
  };
}

/** The limit of a JSON document (if any) with the flags over it; the role defaults to PROJECT_ADMIN. */
export function limitBody(json: unknown, flags: { vcpus?: number; role?: ModifierRole }): ApiInput<"HTCLimitCreate"> {
  if (json !== undefined && (!json || typeof json !== "object" || Array.isArray(json))) {
    throw usageError("the limit must be a JSON object (an HTCLimitCreate with vCPUs and modifierRole)");
  }
  const base = (json ?? {}) as Partial<Record<"vCPUs" | "modifierRole", unknown>>;
  const vCPUs = flags.vcpus ?? base.vCPUs;
  if (vCPUs === undefined) throw usageError("the limit needs vCPUs: give a JSON file with it, or --vcpus <n>");
  if (typeof vCPUs !== "number" || !Number.isInteger(vCPUs) || vCPUs < 0 || vCPUs > 999_999)
    throw usageError("vCPUs must be a whole number 0…999999");
  const role = flags.role ?? base.modifierRole ?? "PROJECT_ADMIN";
  if (!(MODIFIER_ROLES as readonly unknown[]).includes(role)) throw usageError(`modifierRole must be one of ${MODIFIER_ROLES.join(", ")}`);
  return { vCPUs, modifierRole: role as ModifierRole };
}

function showProject(out: Output, p: Project): void {
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

/** A value that needs configuration, or undefined without it (for marking the current one in a list). */
export function safe(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
