// `htc task create|get|delete|archive|unarchive|stats|groups`, with the official CLI's command lines
// (`task create NAME [DESCRIPTION]`, `task get [-l N]`, `task stats`) and this CLI's flags as two ways into the
// same commands.
import { collect, paginate, unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { type Session, sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import type { Output } from "../output.js";
import { time } from "../output.js";
import { type Api, enumOption, intOption, JOB_STATUSES, LIFECYCLE_STATUSES, repeatable } from "./common.js";
import { PAGE_SIZE, safe } from "./project.js";

type Task = Api<"HTCTask">;

/** The 7 statuses every summary reports, in lifecycle order (POD_* are appended when a server sends them). */
export const SUMMARY_STATUSES = JOB_STATUSES.filter((s) => !s.startsWith("POD_"));

export function registerTaskCommands(program: Command): void {
  const task = program.command("task").description("tasks of a project: create, inspect, archive, delete, statistics");

  task
    .command("create")
    .argument("[name]", "task name (or --name)")
    .argument("[description]", "task description (or --description)")
    .description("create a task in the project")
    .option("--name <name>", "task name")
    .option("--description <text>", "task description (default empty)")
    .option("--use", "store the new task id in the current context")
    .action(
      async (
        name: string | undefined,
        description: string | undefined,
        opts: { name?: string; description?: string; use?: boolean },
        command: Command,
      ) => {
        const session = sessionOf(command);
        if (name !== undefined && opts.name !== undefined) throw usageError("give the task's name once: as an argument or with --name");
        if (description !== undefined && opts.description !== undefined)
          throw usageError("give the task's description once: as an argument or with --description");
        const taskName = name ?? opts.name;
        if (taskName === undefined || taskName.trim() === "") throw usageError("the task needs a name: htc task create NAME [DESCRIPTION]");
        const projectId = session.projectId();
        const created = await unwrap(
          session.client().api.POST("/htc/projects/{projectId}/tasks", {
            params: { path: { projectId } },
            body: { taskName, taskDescription: description ?? opts.description ?? "" },
            signal: session.signal,
          }),
        );
        if (opts.use) session.remember({ projectId, taskId: created.taskId });
        session.out.result(created, () => {
          showTask(session.out, created);
          if (opts.use) session.out.info(`task ${created.taskId} is now the default of context ${session.contextName}`);
        });
      },
    );

  task
    .command("get")
    .alias("list")
    .alias("ls")
    .argument("[taskId]", "one task; without it, the project's tasks")
    .description("list the project's tasks, or show one")
    .option("-l, --limit <n>", "list at most n tasks", intOption(1))
    .option("--status <status>", `only tasks in this lifecycle status (${LIFECYCLE_STATUSES.join(", ")})`, enumOption(LIFECYCLE_STATUSES))
    .action(async (taskId: string | undefined, opts: { limit?: number; status?: string }, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      if (taskId !== undefined) {
        const found = await unwrap(
          session
            .client()
            .api.GET("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: { projectId, taskId } }, signal: session.signal }),
        );
        session.out.result(found, () => showTask(session.out, found));
        return;
      }
      const pages = paginate(
        session.client(),
        "/htc/projects/{projectId}/tasks",
        { params: { path: { projectId } } },
        { pageSize: PAGE_SIZE, signal: session.signal },
      );
      // The status is filtered here (the API has no such parameter), so a limit counts the tasks that pass.
      const tasks: Api<"HTCTask">[] = [];
      for await (const t of pages) {
        if (opts.status && t.lifecycleStatus !== opts.status) continue;
        tasks.push(t);
        if (opts.limit !== undefined && tasks.length >= opts.limit) break;
      }
      session.out.result(tasks, () => {
        const current = safe(() => session.taskId());
        session.out.table(
          ["", "id", "name", "status", "created", "last active"],
          tasks.map((t) => [
            t.taskId === current ? "*" : "",
            t.taskId,
            t.taskName,
            t.lifecycleStatus,
            time(t.createdAt),
            time(t.lastActiveAt),
          ]),
        );
      });
    });

  task
    .command("delete")
    .alias("rm")
    .argument("[taskId]", "task id (default: the current one)")
    .description("delete a task (its running jobs are cancelled)")
    .action(async (taskId: string | undefined, _opts, command: Command) => {
      const session = sessionOf(command);
      const ids = session.ids(taskId);
      const deleted = await unwrap(
        session.client().api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids }, signal: session.signal }),
      );
      session.out.result(deleted, () => session.out.line(`Task ${deleted.taskId} is ${deleted.lifecycleStatus}`));
    });

  for (const [name, status, text] of [
    ["archive", "ARCHIVED", "archive a task (only ACTIVE tasks without running jobs)"],
    ["unarchive", "ACTIVE", "make an archived task ACTIVE again"],
  ] as const) {
    task
      .command(name)
      .argument("[taskId]", "task id (default: the current one)")
      .description(text)
      .action(async (taskId: string | undefined, _opts, command: Command) => {
        const session = sessionOf(command);
        const ids = session.ids(taskId);
        const updated = await unwrap(
          session.client().api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", {
            params: { path: ids },
            body: { lifecycleStatus: status },
            signal: session.signal,
          }),
        );
        session.out.result(updated, () => session.out.line(`Task ${updated.taskId} is ${updated.lifecycleStatus}`));
      });
  }

  task
    .command("stats")
    .argument("[taskId]", "task id (default: the current one)")
    .description("job counts per status: of the whole task, of --group, or of every group with --by-group")
    .option("--group <group>", "statistics of this group (repeatable)", repeatable)
    .option("--by-group", "statistics of every group of the task")
    .action(async (taskId: string | undefined, opts: { group?: string[]; byGroup?: boolean }, command: Command) => {
      const session = sessionOf(command);
      const ids = session.ids(taskId);
      const api = session.client().api;
      if (!opts.group && !opts.byGroup) {
        const summary = await unwrap(
          api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path: ids }, signal: session.signal }),
        );
        session.out.result(summary, () => {
          const counts = summary.jobStatuses ?? {};
          const statuses = orderedStatuses([counts]);
          const total = Object.values(counts).reduce((a, b) => a + b, 0);
          session.out.table(["status", "jobs"], [...statuses.map((s) => [s, counts[s] ?? 0]), ["TOTAL", total]]);
        });
        return;
      }
      const groups = await collect(
        paginate(
          session.client(),
          "/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics",
          { params: { path: ids, query: opts.group ? { group: opts.group } : {} } },
          { pageSize: PAGE_SIZE, signal: session.signal },
        ),
        { limit: Number.MAX_SAFE_INTEGER },
      );
      session.out.result(groups, () => printGroupStats(session, groups));
    });

  task
    .command("groups")
    .argument("[taskId]", "task id (default: the current one)")
    .description("list the job groups of a task")
    .action(async (taskId: string | undefined, _opts, command: Command) => {
      const session = sessionOf(command);
      const ids = session.ids(taskId);
      const groups = await unwrap(
        session.client().api.GET("/htc/projects/{projectId}/tasks/{taskId}/groups", { params: { path: ids }, signal: session.signal }),
      );
      session.out.result(groups, () => {
        for (const g of groups) session.out.line(g);
      });
    });
}

/** The statuses to show: the classic 7 in lifecycle order, then any other the server reported. */
export function orderedStatuses(counts: Record<string, number>[]): string[] {
  const extra = new Set<string>();
  for (const c of counts) for (const s of Object.keys(c)) if (!(SUMMARY_STATUSES as readonly string[]).includes(s)) extra.add(s);
  return [...SUMMARY_STATUSES, ...[...extra].sort()];
}

function printGroupStats(session: Session, groups: Api<"JobStatusSummary">[]): void {
  const counts = groups.map((g) => g.jobStatuses ?? {});
  const statuses = orderedStatuses(counts);
  session.out.table(
    ["group", ...statuses.map(shortStatus), "total"],
    groups.map((g, i) => {
      const c = counts[i]!;
      return [g.group, ...statuses.map((s) => c[s] ?? 0), Object.values(c).reduce((a, b) => a + b, 0)];
    }),
  );
}

function shortStatus(status: string): string {
  return status.replace("SUBMITTED_TO_", "TO_");
}

function showTask(out: Output, t: Task): void {
  out.details([
    ["Task", t.taskId],
    ["Name", t.taskName],
    ["Description", t.taskDescription],
    ["Project", t.projectId],
    ["Status", t.lifecycleStatus],
    ["Created by", t.createdBy],
    ["Created", time(t.createdAt)],
    ["Last active", time(t.lastActiveAt)],
    ["Archived", time(t.archivedAt)],
    ["Deleted", time(t.deletedAt)],
    ["Folder", t.taskFolderPath],
  ]);
}
