// `htc emulator faults list|add|remove|clear|log`: fault rules that make API calls or jobs fail, and the log of
// what they injected.
import type { FaultInjection, FaultRule, FaultRuleCreate } from "@htcemu/client/admin";
import type { Command } from "commander";
import { usageError } from "../../errors.js";
import { type Output, time } from "../../output.js";
import { choice, durationOption, enumOption, formatSeconds, intOption, listOption, numberOption, readJsonInput } from "../common.js";
import { adminClientOf, withEmulatorTarget } from "./admin-client.js";

type FaultMatch = NonNullable<FaultRuleCreate["match"]>;
type ApiFault = NonNullable<FaultRuleCreate["api"]>;
type JobFault = NonNullable<FaultRuleCreate["job"]>;

const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const JOB_FAULT_KINDS = [
  "exitCode",
  "timeout",
  "outOfMemory",
  "imagePullFailure",
  "vanish",
  "stuck",
] as const satisfies readonly JobFault["kind"][];
const STUCK_STATUSES = ["RUNNABLE", "STARTING", "RUNNING"] as const satisfies readonly NonNullable<JobFault["status"]>[];

interface FaultFlags {
  operation?: string[];
  method?: (typeof HTTP_METHODS)[number][];
  project?: string;
  task?: string;
  group?: string;
  jobIndex?: number[];
  attempt?: number[];
  status?: number;
  retryAfter?: number;
  latency?: number;
  drop?: "request" | "response";
  errorDescription?: string;
  jobKind?: JobFault["kind"];
  exitCode?: number;
  after?: number;
  stuckStatus?: JobFault["status"];
  reason?: string;
  stuckFor?: number;
  times?: number;
  skip?: number;
  probability?: number;
  seed?: number;
  id?: string;
  description?: string;
}

export function registerFaults(emulator: Command): void {
  const faults = emulator
    .command("faults")
    .description("fault injection: rules that make API calls fail (status, Retry-After, latency, dropped connections) or jobs fail")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  htc emulator faults add --operation getJobs --status 429 --retry-after 1 --times 3 --id storm",
        "  htc emulator faults add --method POST --drop response --probability 0.2 --seed 7",
        "  htc emulator faults add --group sweep-1 --exit-code 3 --probability 0.5 --seed 42",
        "  htc emulator faults add --job-index 0,1 --stuck-status RUNNABLE --reason 'no capacity'",
        '  htc emulator faults add @rule.json      (or --json \'{"match":{…},"api":{…}}\', or - for stdin)',
        "  htc emulator faults log --rule storm",
      ].join("\n"),
    );

  withEmulatorTarget(
    faults.command("list", { isDefault: true }).alias("ls").description("list the fault rules, with how often each matched and fired"),
  ).action(async (_opts, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const rules = await admin.listFaults();
    session.out.result(rules, () => faultTable(session.out, rules));
  });

  withEmulatorTarget(
    faults
      .command("add")
      .summary("add a fault rule, from JSON (--json <rule>, @file, -) or from flags")
      .description(
        "add a fault rule: a FaultRuleCreate of the admin API given as JSON (inline, @file, or - for stdin; with the " +
          "global --json the output is JSON too), or built from flags, or both (flags override the JSON's fields). " +
          "API faults (--status, --retry-after, --latency, --drop) hit matching requests of the HTC API; job faults " +
          "(--job-kind, --exit-code, --after, --stuck-status, --reason) hit matching attempts of jobs",
      )
      .argument("[rule]", "the rule as JSON, @file, or - (stdin); also accepted as `--json <rule>`")
      .option("--id <id>", "the rule's id (default: generated, f<n>)")
      .option("--description <text>", "what the rule is for")
      .option(
        "--operation <operationId>",
        "match these operations of the HTC contract, e.g. getJobs (repeatable, or comma-separated)",
        listOption(String),
      )
      .option(
        "--method <method>",
        "match these HTTP methods (repeatable, or comma-separated)",
        listOption((v) => enumOption(HTTP_METHODS)(v)),
      )
      .option("--project <id>", "match this project")
      .option("--task <id>", "match this task")
      .option("--group <group>", "match this job group")
      .option(
        "--job-index <n>",
        "match these job indexes, the <index> of <parentJobId>:<index> (repeatable, or comma-separated)",
        listOption(intOption(0)),
      )
      .option(
        "--attempt <n>",
        "job faults: match these attempts, 1 for the first (repeatable, or comma-separated)",
        listOption(intOption(1)),
      )
      .option("--status <code>", "API fault: answer with this status (400…599) and the contract's error body", intOption(400, 599))
      .option(
        "--retry-after <duration>",
        "API fault: send Retry-After (whole seconds) with --status",
        durationOption({ unit: "s", integer: true }),
      )
      .option(
        "--latency <duration>",
        "API fault: wait this long first (a plain number is milliseconds: 500, 2s)",
        durationOption({ unit: "ms", plain: "ms", integer: true }),
      )
      .option(
        "--drop <when>",
        "API fault: close the connection without an answer, before the operation runs (request) or after (response)",
        choice(["request", "response"]),
      )
      .option("--error-description <text>", "API fault: the errorDescription of the error body")
      .option(
        "--job-kind <kind>",
        `job fault: ${JOB_FAULT_KINDS.join(", ")} (implied by --exit-code, --stuck-status, --reason)`,
        choice(JOB_FAULT_KINDS),
      )
      .option("--exit-code <n>", "job fault: the attempt exits with this code (0…255)", intOption(0, 255))
      .option(
        "--after <duration>",
        "job fault: strike this long (emulator clock) after the attempt is RUNNING (a plain number is seconds)",
        durationOption({ unit: "s" }),
      )
      .option("--stuck-status <status>", `job fault (stuck): hold the job in ${STUCK_STATUSES.join(", ")}`, enumOption(STUCK_STATUSES))
      .option("--reason <text>", "job fault (stuck): the job's statusReason while it is held")
      .option(
        "--stuck-for <duration>",
        "job fault (stuck): release the job after this long (emulator clock; default: until the rule is removed)",
        durationOption({ unit: "s" }),
      )
      .option("--times <n>", "inject at most this many faults (default: no limit)", intOption(1))
      .option("--skip <n>", "let this many matches through first", intOption(0))
      .option("--probability <p>", "chance that a match is hit (0…1, default 1)", numberOption(0, 1))
      .option("--seed <n>", "seed of the rule's random draws (default 0)", intOption(Number.MIN_SAFE_INTEGER)),
  ).action(async (ruleArgument: string | undefined, flags: FaultFlags, command: Command) => {
    const base = ruleArgument === undefined ? undefined : await readRule(ruleArgument);
    const rule = buildFaultRule(base, flags);
    const { admin, session } = adminClientOf(command);
    const added = await admin.addFault(rule);
    session.out.result(added, () => {
      session.out.line(`Fault rule ${added.id} added`);
      faultDetails(session.out, added);
    });
  });

  withEmulatorTarget(
    faults
      .command("remove")
      .alias("rm")
      .argument("<ruleId>", "the rule's id")
      .description("remove a fault rule (jobs it holds are released)"),
  ).action(async (ruleId: string, _opts, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const removed = await admin.removeFault(ruleId);
    session.out.result(removed, () =>
      session.out.line(`Fault rule ${removed.id} removed (matched ${removed.matched}, injected ${removed.injected})`),
    );
  });

  withEmulatorTarget(faults.command("clear").description("remove every fault rule (the injection log is kept)")).action(
    async (_opts, command: Command) => {
      const { admin, session } = adminClientOf(command);
      const removed = await admin.clearFaults();
      session.out.result(removed, () =>
        session.out.line(
          removed.length === 0 ? "No fault rules" : `Removed ${removed.length} fault rule(s): ${removed.map((r) => r.id).join(", ")}`,
        ),
      );
    },
  );

  withEmulatorTarget(
    faults
      .command("log")
      .description("the recent injected faults, oldest first")
      .option("--rule <id>", "only the injections of this rule")
      .option("--limit <n>", "at most this many, the most recent (1…1000)", intOption(1, 1000)),
  ).action(async (opts: { rule?: string; limit?: number }, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const log = await admin.faultLog({
      ...(opts.rule !== undefined ? { ruleId: opts.rule } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    });
    session.out.result(log, () => {
      session.out.table(
        ["seq", "at", "rule", "kind", "target", "status", "detail"],
        log.items.map((i) => [i.seq, time(i.at), i.ruleId, i.kind, injectionTarget(i), i.status, i.detail]),
      );
      session.out.info(`${log.items.length} shown, ${log.total} injected since the emulator started`);
    });
  });
}

async function readRule(argument: string): Promise<FaultRuleCreate> {
  const text = argument.trim();
  let value: unknown;
  if (text === "-") value = await readJsonInput("-");
  else if (text.startsWith("@")) value = await readJsonInput(text.slice(1));
  else if (text.startsWith("{")) {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw usageError(`the rule is not valid JSON: ${(error as Error).message}`);
    }
  } else throw usageError(`expected a rule as JSON, @file or - (stdin), got ${JSON.stringify(argument)}`);
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw usageError("the rule must be a JSON object (a FaultRuleCreate of the admin API)");
  return value as FaultRuleCreate;
}

/** The rule the JSON (if any) and the flags describe; flags override the JSON's fields. */
export function buildFaultRule(base: FaultRuleCreate | undefined, flags: FaultFlags): FaultRuleCreate {
  const match: FaultMatch = { ...base?.match };
  if (flags.operation) match.operations = flags.operation;
  if (flags.method) match.methods = flags.method;
  if (flags.project !== undefined) match.projectId = flags.project;
  if (flags.task !== undefined) match.taskId = flags.task;
  if (flags.group !== undefined) match.group = flags.group;
  if (flags.jobIndex) match.jobIndexes = flags.jobIndex;
  if (flags.attempt) match.attempts = flags.attempt;

  const apiFlags: ApiFault = {
    ...(flags.status !== undefined ? { status: flags.status } : {}),
    ...(flags.retryAfter !== undefined ? { retryAfterSeconds: flags.retryAfter } : {}),
    ...(flags.latency !== undefined ? { latencyMs: flags.latency } : {}),
    ...(flags.drop !== undefined ? { drop: flags.drop } : {}),
    ...(flags.errorDescription !== undefined ? { errorDescription: flags.errorDescription } : {}),
  };
  const jobFlags: Partial<JobFault> = {
    ...(flags.jobKind !== undefined ? { kind: flags.jobKind } : {}),
    ...(flags.exitCode !== undefined ? { exitCode: flags.exitCode } : {}),
    ...(flags.after !== undefined ? { afterSeconds: flags.after } : {}),
    ...(flags.stuckStatus !== undefined ? { status: flags.stuckStatus } : {}),
    ...(flags.reason !== undefined ? { statusReason: flags.reason } : {}),
    ...(flags.stuckFor !== undefined ? { forSeconds: flags.stuckFor } : {}),
  };
  const hasApi = Object.keys(apiFlags).length > 0;
  const hasJob = Object.keys(jobFlags).length > 0;
  if (hasApi && hasJob) {
    throw usageError(
      "API fault flags (--status, --retry-after, --latency, --drop, --error-description) and job fault flags exclude each other: a rule injects one or the other",
    );
  }
  if (flags.retryAfter !== undefined && flags.status === undefined && base?.api?.status === undefined) {
    throw usageError("--retry-after goes with --status (e.g. --status 429 --retry-after 1)");
  }

  const rule: FaultRuleCreate = { ...base, match };
  if (hasApi) {
    if (base?.job) throw usageError("the rule's JSON has a job fault: API fault flags cannot be added to it");
    rule.api = { ...base?.api, ...apiFlags };
  }
  if (hasJob) {
    if (base?.api) throw usageError("the rule's JSON has an API fault: job fault flags cannot be added to it");
    const merged = { ...base?.job, ...jobFlags };
    const kind =
      merged.kind ??
      (merged.exitCode !== undefined
        ? "exitCode"
        : merged.status !== undefined || merged.statusReason !== undefined || merged.forSeconds !== undefined
          ? "stuck"
          : undefined);
    if (!kind) throw usageError(`say which job fault with --job-kind (${JOB_FAULT_KINDS.join(", ")})`);
    rule.job = { ...merged, kind };
  }
  if (!rule.api && !rule.job) {
    throw usageError(
      "say what the rule injects",
      "API faults: --status, --latency or --drop; job faults: --job-kind, --exit-code or --stuck-status; or give the rule as JSON",
    );
  }
  if (flags.id !== undefined) rule.id = flags.id;
  if (flags.description !== undefined) rule.description = flags.description;
  if (flags.times !== undefined) rule.times = flags.times;
  if (flags.skip !== undefined) rule.skip = flags.skip;
  if (flags.probability !== undefined) rule.probability = flags.probability;
  if (flags.seed !== undefined) rule.seed = flags.seed;
  return rule;
}

/** `op=getJobs method=GET project=… group=g jobs=0,1 attempts=1`, or `*` for everything. */
export function describeMatch(match: FaultMatch | undefined): string {
  const parts: string[] = [];
  if (match?.operations?.length) parts.push(`op=${match.operations.join(",")}`);
  if (match?.methods?.length) parts.push(`method=${match.methods.join(",")}`);
  if (match?.projectId !== undefined) parts.push(`project=${match.projectId}`);
  if (match?.taskId !== undefined) parts.push(`task=${match.taskId}`);
  if (match?.group !== undefined) parts.push(`group=${match.group}`);
  if (match?.jobIndexes?.length) parts.push(`jobs=${match.jobIndexes.join(",")}`);
  if (match?.attempts?.length) parts.push(`attempts=${match.attempts.join(",")}`);
  return parts.length > 0 ? parts.join(" ") : "*";
}

/** `429 retry-after 1s`, `latency 500ms`, `drop response`, `exitCode 3 after 10s`, `stuck RUNNABLE`. */
export function describeFault(rule: Pick<FaultRule, "api" | "job">): string {
  const parts: string[] = [];
  if (rule.api) {
    const api = rule.api;
    if (api.latencyMs !== undefined) parts.push(`latency ${api.latencyMs}ms`);
    if (api.status !== undefined)
      parts.push(`${api.status}${api.retryAfterSeconds !== undefined ? ` retry-after ${api.retryAfterSeconds}s` : ""}`);
    if (api.drop !== undefined) parts.push(`drop ${api.drop}`);
  }
  if (rule.job) {
    const job = rule.job;
    if (job.kind === "stuck") {
      parts.push(`stuck ${job.status ?? "RUNNABLE"}`);
      if (job.forSeconds !== undefined) parts.push(`for ${formatSeconds(job.forSeconds)}`);
    } else {
      parts.push(job.kind === "exitCode" ? `exitCode ${job.exitCode ?? 1}` : job.kind);
      if (job.afterSeconds) parts.push(`after ${formatSeconds(job.afterSeconds)}`);
    }
  }
  return parts.join(", ");
}

function faultTable(out: Output, rules: FaultRule[]): void {
  out.table(
    ["id", "match", "fault", "probability", "skip", "times", "matched", "injected", "held", "exhausted"],
    rules.map((r) => [
      r.id,
      describeMatch(r.match),
      describeFault(r),
      r.probability,
      r.skip,
      r.times,
      r.matched,
      r.injected,
      r.held,
      r.exhausted,
    ]),
  );
}

function faultDetails(out: Output, rule: FaultRule): void {
  out.details([
    ["ID", rule.id],
    ...(rule.description ? ([["Description", rule.description]] as [string, string][]) : []),
    ["Match", describeMatch(rule.match)],
    ["Fault", describeFault(rule)],
    ["Probability", rule.probability],
    ["Seed", rule.seed],
    ["Skip", rule.skip],
    ["Times", rule.times ?? "no limit"],
  ]);
}

function injectionTarget(i: FaultInjection): string {
  if (i.jobId !== undefined) return `${i.jobId}${i.attempt !== undefined ? ` (attempt ${i.attempt})` : ""}`;
  return [i.operation, i.method && i.path ? `${i.method} ${i.path}` : undefined].filter(Boolean).join(" ");
}
