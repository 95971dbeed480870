// The test controls of a running emulator, through its admin API (openapi/admin/admin.yaml) and the typed admin
// client of @htcemu/client: `htc emulator clock|faults|scheduler|step|reset|snapshot`. The emulator is found by
// --emulator-url, then HTC_EMULATOR_URL, then the base URL of the current target (its root: `/api/v1` stripped).
import { once } from "node:events";
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HtcApiError, unwrap } from "@htcemu/client";
import { type AdminClient, createAdminClient, type FaultInjection, type FaultRule, type FaultRuleCreate, type StepRequest } from "@htcemu/client/admin";
import { type Command, InvalidArgumentError } from "commander";
import { nonEmpty, type Session, sessionOf } from "../context.js";
import { CliError, ExitCode, usageError } from "../errors.js";
import type { Output } from "../output.js";
import { time } from "../output.js";
import { durationOption, enumOption, formatSeconds, intOption, listOption, numberOption, readJsonInput } from "./common.js";

type FaultMatch = NonNullable<FaultRuleCreate["match"]>;
type ApiFault = NonNullable<FaultRuleCreate["api"]>;
type JobFault = NonNullable<FaultRuleCreate["job"]>;

const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const JOB_FAULT_KINDS = ["exitCode", "timeout", "outOfMemory", "imagePullFailure", "vanish", "stuck"] as const satisfies readonly JobFault["kind"][];
const STUCK_STATUSES = ["RUNNABLE", "STARTING", "RUNNING"] as const satisfies readonly NonNullable<JobFault["status"]>[];
const STEP_TARGETS = ["SUBMITTED_TO_PROVIDER", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"] as const satisfies readonly NonNullable<
  StepRequest["to"]
>[];
const STEP_FAILURES = ["timeout", "outOfMemory", "vanish"] as const satisfies readonly NonNullable<StepRequest["failure"]>[];
const PRODUCTION_HOST = "htc.rescale.com";

/** Where the admin API is: --emulator-url, HTC_EMULATOR_URL, or the root of the current target's base URL. */
export function emulatorRootUrl(session: Session, flag: string | undefined): { root: string; source: string } {
  const given = nonEmpty(flag) ?? nonEmpty(session.env["HTC_EMULATOR_URL"]);
  const source = nonEmpty(flag) ? "flag --emulator-url" : given ? "env HTC_EMULATOR_URL" : undefined;
  const hint = "pass --emulator-url http://127.0.0.1:8787, set HTC_EMULATOR_URL, or use a context of an emulator (`htc emulator config`)";
  let url: string;
  let from: string;
  if (given) {
    url = given;
    from = source!;
  } else {
    if (session.baseUrlSource() === "default") throw usageError("no emulator to talk to", hint);
    url = session.baseUrl();
    from = session.baseUrlSource();
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`invalid emulator URL ${JSON.stringify(url)} (from ${from})`, hint);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw usageError(`invalid emulator URL ${JSON.stringify(url)} (from ${from})`, hint);
  if (!given && parsed.hostname === PRODUCTION_HOST) {
    throw usageError(`the current target ${url} (from ${from}) is production, which has no test controls`, hint);
  }
  const root = url.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return { root, source: from };
}

/** A typed admin client for the command's emulator: no answer is a network error (exit 4), Ctrl-C aborts. */
export function adminClientOf(command: Command): { admin: AdminClient; root: string; session: Session } {
  const session = sessionOf(command);
  const { root } = emulatorRootUrl(session, (command.optsWithGlobals() as { emulatorUrl?: string }).emulatorUrl);
  const timeoutSeconds = Number(session.env["HTC_REQUEST_TIMEOUT"] ?? 120);
  const timeoutMs = Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 : 120_000;
  const fetchAdmin = async (request: Request): Promise<Response> => {
    // The time budget covers the wait for the answer's headers; a snapshot's body may take longer.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    try {
      const init: RequestInit & { duplex?: "half" } = { signal: AbortSignal.any([session.signal, timeout.signal]) };
      if (request.body) init.duplex = "half";
      return await fetch(request, init);
    } catch (error) {
      if (session.signal.aborted) throw Object.assign(new Error("interrupted"), { name: "AbortError" });
      const why = timeout.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : describeCause(error);
      throw new CliError(`no emulator answers at ${root}: ${why}`, ExitCode.NETWORK, "start one with `htc emulator start`, or pass --emulator-url");
    } finally {
      clearTimeout(timer);
    }
  };
  return { admin: createAdminClient(root, { fetch: fetchAdmin }), root, session };
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** Adds --emulator-url to a command that talks to the admin API. */
function withEmulatorUrl(command: Command): Command {
  return command.option("--emulator-url <url>", "the emulator's root URL (env HTC_EMULATOR_URL; default: the current target's, without /api/v1)");
}

export function registerControlCommands(emulator: Command): void {
  registerClock(emulator);
  registerFaults(emulator);
  registerScheduler(emulator);
  registerStep(emulator);
  registerReset(emulator);
  registerSnapshot(emulator);
}

// --- clock ---------------------------------------------------------------------------------------------------------

function registerClock(emulator: Command): void {
  withEmulatorUrl(
    emulator
      .command("clock")
      .summary("read the emulator's clock, move it forward or change its speed")
      .description(
        "print the emulator's time and speed; --advance jumps ahead (token expiry, retention, timeouts), --speed sets how " +
          "many emulated seconds pass per real second from now on. The clock never goes back.",
      )
      .option("--advance <duration>", "move the clock forward by this much: 90s, 15m, 6h, 30d, 1h30m (a plain number is seconds)", durationOption({ unit: "s" }))
      .option("--speed <factor>", "emulated seconds per real second (> 0)", positiveNumber),
  ).action(async (opts: { advance?: number; speed?: number }, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const changed = opts.advance !== undefined || opts.speed !== undefined;
    const clock = changed
      ? await unwrap(
          admin.api.POST("/clock", {
            body: { ...(opts.advance !== undefined ? { advanceSeconds: opts.advance } : {}), ...(opts.speed !== undefined ? { speed: opts.speed } : {}) },
          }),
        )
      : await admin.clock();
    session.out.result(clock, () =>
      session.out.details([
        ["Now", clock.now],
        ["Speed", clock.speed],
        ...(opts.advance !== undefined ? ([["Advanced", formatSeconds(opts.advance)]] as [string, string][]) : []),
      ]),
    );
  });
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a number greater than 0");
  return n;
}

// --- faults --------------------------------------------------------------------------------------------------------

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

function registerFaults(emulator: Command): void {
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
        "  htc emulator faults add @rule.json      (or --json '{\"match\":{…},\"api\":{…}}', or - for stdin)",
        "  htc emulator faults log --rule storm",
      ].join("\n"),
    );

  withEmulatorUrl(faults.command("list", { isDefault: true }).alias("ls").description("list the fault rules, with how often each matched and fired")).action(
    async (_opts, command: Command) => {
      const { admin, session } = adminClientOf(command);
      const rules = await admin.listFaults();
      session.out.result(rules, () => faultTable(session.out, rules));
    },
  );

  withEmulatorUrl(
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
      .option("--operation <operationId>", "match these operations of the HTC contract, e.g. getJobs (repeatable, or comma-separated)", listOption(String))
      .option(
        "--method <method>",
        "match these HTTP methods (repeatable, or comma-separated)",
        listOption((v) => enumOption(HTTP_METHODS)(v)),
      )
      .option("--project <id>", "match this project")
      .option("--task <id>", "match this task")
      .option("--group <group>", "match this job group")
      .option("--job-index <n>", "match these job indexes, the <index> of <parentJobId>:<index> (repeatable, or comma-separated)", listOption(intOption(0)))
      .option("--attempt <n>", "job faults: match these attempts, 1 for the first (repeatable, or comma-separated)", listOption(intOption(1)))
      .option("--status <code>", "API fault: answer with this status (400…599) and the contract's error body", intOption(400, 599))
      .option("--retry-after <duration>", "API fault: send Retry-After (whole seconds) with --status", durationOption({ unit: "s", integer: true }))
      .option("--latency <duration>", "API fault: wait this long first (a plain number is milliseconds: 500, 2s)", durationOption({ unit: "ms", plain: "ms", integer: true }))
      .option("--drop <when>", "API fault: close the connection without an answer, before the operation runs (request) or after (response)", choice(["request", "response"]))
      .option("--error-description <text>", "API fault: the errorDescription of the error body")
      .option("--job-kind <kind>", `job fault: ${JOB_FAULT_KINDS.join(", ")} (implied by --exit-code, --stuck-status, --reason)`, choice(JOB_FAULT_KINDS))
      .option("--exit-code <n>", "job fault: the attempt exits with this code (0…255)", intOption(0, 255))
      .option("--after <duration>", "job fault: strike this long (emulator clock) after the attempt is RUNNING (a plain number is seconds)", durationOption({ unit: "s" }))
      .option("--stuck-status <status>", `job fault (stuck): hold the job in ${STUCK_STATUSES.join(", ")}`, enumOption(STUCK_STATUSES))
      .option("--reason <text>", "job fault (stuck): the job's statusReason while it is held")
      .option("--stuck-for <duration>", "job fault (stuck): release the job after this long (emulator clock; default: until the rule is removed)", durationOption({ unit: "s" }))
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

  withEmulatorUrl(faults.command("remove").alias("rm").argument("<ruleId>", "the rule's id").description("remove a fault rule (jobs it holds are released)")).action(
    async (ruleId: string, _opts, command: Command) => {
      const { admin, session } = adminClientOf(command);
      const removed = await admin.removeFault(ruleId);
      session.out.result(removed, () => session.out.line(`Fault rule ${removed.id} removed (matched ${removed.matched}, injected ${removed.injected})`));
    },
  );

  withEmulatorUrl(faults.command("clear").description("remove every fault rule (the injection log is kept)")).action(async (_opts, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const removed = await admin.clearFaults();
    session.out.result(removed, () =>
      session.out.line(removed.length === 0 ? "No fault rules" : `Removed ${removed.length} fault rule(s): ${removed.map((r) => r.id).join(", ")}`),
    );
  });

  withEmulatorUrl(
    faults
      .command("log")
      .description("the recent injected faults, oldest first")
      .option("--rule <id>", "only the injections of this rule")
      .option("--limit <n>", "at most this many, the most recent (1…1000)", intOption(1, 1000)),
  ).action(async (opts: { rule?: string; limit?: number }, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const log = await admin.faultLog({ ...(opts.rule !== undefined ? { ruleId: opts.rule } : {}), ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
    session.out.result(log, () => {
      session.out.table(
        ["seq", "at", "rule", "kind", "target", "status", "detail"],
        log.items.map((i) => [i.seq, time(i.at), i.ruleId, i.kind, injectionTarget(i), i.status, i.detail]),
      );
      session.out.info(`${log.items.length} shown, ${log.total} injected since the emulator started`);
    });
  });
}

/** A commander parser for a fixed list of (case-sensitive) values. */
function choice<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${values.join(", ")}`);
    return value as T;
  };
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
  if (!value || typeof value !== "object" || Array.isArray(value)) throw usageError("the rule must be a JSON object (a FaultRuleCreate of the admin API)");
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
    throw usageError("API fault flags (--status, --retry-after, --latency, --drop, --error-description) and job fault flags exclude each other: a rule injects one or the other");
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
      (merged.exitCode !== undefined ? "exitCode" : merged.status !== undefined || merged.statusReason !== undefined || merged.forSeconds !== undefined ? "stuck" : undefined);
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
    if (api.status !== undefined) parts.push(`${api.status}${api.retryAfterSeconds !== undefined ? ` retry-after ${api.retryAfterSeconds}s` : ""}`);
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
    rules.map((r) => [r.id, describeMatch(r.match), describeFault(r), r.probability, r.skip, r.times, r.matched, r.injected, r.held, r.exhausted]),
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

// --- scheduler -----------------------------------------------------------------------------------------------------

function registerScheduler(emulator: Command): void {
  const scheduler = emulator.command("scheduler").description("pause and resume the emulator's scheduler (admission and dispatch of jobs)");
  const show = (command: Command, state: Awaited<ReturnType<AdminClient["scheduler"]>>) => {
    const { out } = sessionOf(command);
    out.result(state, () =>
      out.details([
        ["Paused", state.paused],
        ["Executing", state.executing],
        ["Held", state.held],
        ["Stepped", state.stepped],
      ]),
    );
  };
  withEmulatorUrl(scheduler.command("status", { isDefault: true }).description("whether the scheduler is paused, and the jobs it handles")).action(
    async (_opts, command: Command) => show(command, await adminClientOf(command).admin.scheduler()),
  );
  withEmulatorUrl(
    scheduler.command("pause").description("stop admitting and dispatching jobs (attempts already running go on); needed by `htc emulator step`"),
  ).action(async (_opts, command: Command) => show(command, await adminClientOf(command).admin.pause()));
  withEmulatorUrl(scheduler.command("resume").description("admit and dispatch jobs again; stepped jobs continue from where they were left")).action(
    async (_opts, command: Command) => show(command, await adminClientOf(command).admin.resume()),
  );
}

// --- step ----------------------------------------------------------------------------------------------------------

function registerStep(emulator: Command): void {
  withEmulatorUrl(
    emulator
      .command("step")
      .summary("move jobs through their lifecycle by hand (the scheduler must be paused)")
      .description(
        "move the task's jobs (or --job, or --group) one status along " +
          "SUBMITTED_TO_RESCALE → SUBMITTED_TO_PROVIDER → RUNNABLE → STARTING → RUNNING → SUCCEEDED | FAILED, " +
          "or with --to until that status; an ending job ends with --exit-code (default 0, or 1 with --to FAILED) or " +
          "--failure. The scheduler must be paused (`htc emulator scheduler pause`). At most 1000 jobs per call.",
      )
      .option("--project <id>", "the project (default: --project-id, HTC_PROJECT_ID or the context's)")
      .option("--task <id>", "the task (default: --task-id, HTC_TASK_ID or the context's)")
      .option("--job <jobId>", "only this job, <parentJobId>:<index> (repeatable, or comma-separated)", listOption(String))
      .option("--group <group>", "only the jobs of this group")
      .option("--to <status>", `move until this status: ${STEP_TARGETS.join(", ")}`, enumOption(STEP_TARGETS))
      .option("--exit-code <n>", "the exit code an ending job ends with (0…255)", intOption(0, 255))
      .option("--failure <kind>", `end with this failure instead: ${STEP_FAILURES.join(", ")}`, choice(STEP_FAILURES)),
  ).action(
    async (
      opts: { project?: string; task?: string; job?: string[]; group?: string; to?: StepRequest["to"]; exitCode?: number; failure?: StepRequest["failure"] },
      command: Command,
    ) => {
      if (opts.exitCode !== undefined && opts.failure !== undefined) throw usageError("--exit-code and --failure exclude each other");
      const session = sessionOf(command);
      const request: StepRequest = {
        projectId: session.projectId(opts.project),
        taskId: session.taskId(opts.task),
        ...(opts.job ? { jobIds: opts.job } : {}),
        ...(opts.group !== undefined ? { group: opts.group } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
        ...(opts.exitCode !== undefined ? { exitCode: opts.exitCode } : {}),
        ...(opts.failure !== undefined ? { failure: opts.failure } : {}),
      };
      const { admin } = adminClientOf(command);
      let result: Awaited<ReturnType<AdminClient["step"]>>;
      try {
        result = await admin.step(request);
      } catch (error) {
        if (error instanceof HtcApiError && error.errorType === "SCHEDULER_NOT_PAUSED") {
          throw new CliError(`the scheduler is not paused [${error.status} on POST /_emulator/v1/jobs/step]`, ExitCode.API, "pause it first: `htc emulator scheduler pause`");
        }
        throw error;
      }
      session.out.result(result, () => {
        session.out.table(
          ["job", "from", "status", "attempt", "moved", "reason"],
          result.jobs.map((j) => [j.jobId, j.from, j.status, j.attempt, j.moved, j.reason]),
        );
        const moved = result.jobs.filter((j) => j.moved).length;
        session.out.info(result.jobs.length === 0 ? "no job matches" : `${moved} of ${result.jobs.length} job(s) moved`);
      });
    },
  );
}

// --- reset ---------------------------------------------------------------------------------------------------------

function registerReset(emulator: Command): void {
  withEmulatorUrl(
    emulator
      .command("reset")
      .summary("remove all state but the default user (or one workspace's projects, tasks, jobs and objects)")
      .description(
        "remove everything except the default user, its workspace and its API keys (clients configured with that key keep " +
          "working), or with --workspace that workspace's projects, tasks, jobs, limits, policies, repositories and stored " +
          "objects. The clock, the scheduler's pause and the fault rules are left as they are.",
      )
      .option("--workspace <id>", "reset only this workspace"),
  ).action(async (opts: { workspace?: string }, command: Command) => {
    const { admin, session } = adminClientOf(command);
    const removed = await admin.reset(opts.workspace);
    session.out.result(removed, () => {
      session.out.line(opts.workspace === undefined ? "Emulator reset; removed:" : `Workspace ${opts.workspace} reset; removed:`);
      session.out.details([
        ["Workspaces", removed.workspaces],
        ["Users", removed.users],
        ["Projects", removed.projects],
        ["Tasks", removed.tasks],
        ["Jobs", removed.jobs],
        ["Objects", removed.objects],
      ]);
    });
  });
}

// --- snapshot ------------------------------------------------------------------------------------------------------

function registerSnapshot(emulator: Command): void {
  const snapshot = emulator.command("snapshot").description("save the emulator's whole state to a file, or replace it with one");

  withEmulatorUrl(
    snapshot
      .command("export")
      .description("write a snapshot of the whole state (database and stored objects, gzip) to a file")
      .option("-o, --output <file>", "the file (- for stdout; default: the name the emulator suggests, in the current folder)"),
  ).action(async (opts: { output?: string }, command: Command) => {
    const { admin, session } = adminClientOf(command);
    if (opts.output === "-" && process.stdout.isTTY) throw usageError("a snapshot is binary: not writing it to a terminal", "use -o <file>, or redirect stdout");
    const { data, response } = await admin.api.GET("/snapshot", { parseAs: "stream" });
    if (!response.ok || !data) throw await HtcApiError.fromResponse(response, { method: "GET", url: response.url });
    const body = Readable.fromWeb(data as Parameters<typeof Readable.fromWeb>[0]);
    if (opts.output === "-") {
      for await (const chunk of body) if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
      return;
    }
    const file = resolve(opts.output ?? suggestedName(response.headers.get("content-disposition")));
    // Written next to the target and renamed, so an interrupted export never leaves half a snapshot under its name.
    const partial = `${file}.${process.pid}.part`;
    try {
      await pipeline(body, createWriteStream(partial), { signal: session.signal });
      renameSync(partial, file);
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
    const bytes = statSync(file).size;
    session.out.result({ file, bytes }, () => session.out.line(`Snapshot written to ${file} (${bytes} bytes)`));
  });

  withEmulatorUrl(
    snapshot
      .command("import")
      .argument("<file>", "a snapshot file (- for stdin)")
      .description("replace the whole state with a snapshot (attempts in flight are stopped; fault rules are kept)"),
  ).action(async (file: string, _opts, command: Command) => {
    const { admin, session } = adminClientOf(command);
    let stream: Readable;
    if (file === "-") stream = process.stdin;
    else {
      try {
        if (!statSync(file).isFile()) throw new Error("not a file");
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`, ExitCode.EXTERNAL);
      }
      stream = createReadStream(file);
    }
    const summary = await admin.importSnapshot(Readable.toWeb(stream) as ReadableStream<Uint8Array>);
    session.out.result(summary, () => {
      session.out.line(`Snapshot ${file === "-" ? "from stdin" : file} imported; the emulator now holds:`);
      session.out.details([
        ["Workspaces", summary.workspaces],
        ["Projects", summary.projects],
        ["Tasks", summary.tasks],
        ["Jobs", summary.jobs],
        ["Objects", summary.objects],
        ["Clock", summary.clock.now],
      ]);
    });
  });
}

/** The file name of `Content-Disposition: attachment; filename="…"` (its last path part), or a made-up one. */
function suggestedName(disposition: string | null): string {
  const name = disposition?.match(/filename="?([^";]+)"?/)?.[1];
  const safe = name ? basename(name) : "";
  return safe && safe !== "." && safe !== ".." ? safe : `htc-emulator-${new Date().toISOString().replace(/[:.]/g, "-")}.snapshot`;
}
