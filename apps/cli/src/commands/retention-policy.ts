// `htc project|workspace retention-policy get|apply`: when tasks are archived and deleted. Projects and workspaces
// have the same policy shape and the same commands; only where the policy lives differs.
import type { Command } from "commander";
import { type Session, sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import { time } from "../output.js";
import { type Api, intOption, readJsonInput } from "./common.js";

/** The body of a PUT: the two durations in hours (0 switches a step off). */
export interface RetentionBody {
  archiveAfter: number;
  deleteAfter: number;
}

type Policy = Api<"TaskRetentionPolicy"> | Api<"WorkspaceTaskRetentionPolicy">;

/** Where a policy lives: a project's or the workspace's. */
export interface RetentionScope {
  /** "project" or "workspace", for help and messages. */
  name: string;
  get(session: Session): Promise<Policy>;
  put(session: Session, body: RetentionBody): Promise<Policy>;
  /** Deletes the policy (projects only: the workspace's then applies). */
  remove?(session: Session): Promise<void>;
}

export function registerRetentionPolicy(parent: Command, scope: RetentionScope, description: string): Command {
  const retention = parent.command("retention-policy").description(description);
  retention
    .command("get", { isDefault: true })
    .description(`show the ${scope.name}'s task retention policy (404 when it has none)`)
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const policy = await scope.get(session);
      session.out.result(policy, () =>
        session.out.details([
          ["Archive after", `${policy.archiveAfter} h${policy.archiveAfter === 0 ? " (never)" : ""}`],
          ["Delete after", `${policy.deleteAfter} h${policy.deleteAfter === 0 ? " (never)" : ""}`],
          ["Created", time(policy.createdAt)],
        ]),
      );
    });
  retention
    .command("apply")
    .alias("set")
    .argument("[file]", "JSON file with archiveAfter and deleteAfter (hours), or - for stdin")
    .description(
      `set the ${scope.name}'s task retention policy, from a JSON file or from flags (flags override the file's values; hours, 0 disables)`,
    )
    .option("--archive-after <hours>", "archive tasks inactive this long", intOption(0))
    .option("--delete-after <hours>", "delete tasks archived this long", intOption(0))
    .action(async (file: string | undefined, opts: Partial<RetentionBody>, command: Command) => {
      const session = sessionOf(command);
      const body = retentionBody(file === undefined ? undefined : await readJsonInput(file), opts);
      const policy = await scope.put(session, body);
      session.out.result(policy, () =>
        session.out.line(`Tasks are archived after ${policy.archiveAfter} h and deleted ${policy.deleteAfter} h later`),
      );
    });
  if (scope.remove) {
    const remove = scope.remove;
    retention
      .command("delete")
      .alias("rm")
      .description(`delete the ${scope.name}'s policy (the workspace's applies again)`)
      .action(async (_opts, command: Command) => {
        const session = sessionOf(command);
        await remove(session);
        session.out.result({ deleted: true }, () => session.out.line(`Deleted the ${scope.name}'s retention policy`));
      });
  }
  return retention;
}

/** The policy of a JSON document (if any) with the flags' values over it; both durations are required. */
export function retentionBody(json: unknown, flags: Partial<RetentionBody>): RetentionBody {
  if (json !== undefined && (!json || typeof json !== "object" || Array.isArray(json))) {
    throw usageError("the retention policy must be a JSON object with archiveAfter and deleteAfter (hours)");
  }
  const base = (json ?? {}) as Record<string, unknown>;
  const pick = (key: keyof RetentionBody, flag: string): number => {
    const value = flags[key] ?? base[key];
    if (value === undefined) throw usageError(`the policy needs ${key}: give a JSON file with it, or ${flag} <hours>`);
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
      throw usageError(`${key} must be a whole number of hours (0 or more)`);
    return value;
  };
  return { archiveAfter: pick("archiveAfter", "--archive-after"), deleteAfter: pick("deleteAfter", "--delete-after") };
}
