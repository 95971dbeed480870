// `htc job submit|get|events|logs|cancel|watch`.
import { isAbsolute } from "node:path";
import {
  collect,
  type GroupSummary,
  isTerminalStatus,
  type JobBatchRequest,
  paginate,
  requireMember,
  type SubmitJobsOptions,
  submitJobs,
  unwrap,
  waitForGroup,
} from "@htcemu/client";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type Session, sessionOf } from "../context.js";
import { ExitCode, ExitSignal, usageError } from "../errors.js";
import { duration, time } from "../output.js";
import {
  aliasOf,
  type Api,
  ARCHITECTURES,
  compareValues,
  contractProperties,
  enumOption,
  intOption,
  JOB_STATUSES,
  keyValue,
  keyValueList,
  PRIORITIES,
  RESCALE_REGIONS,
  readJsonInput,
  repeatable,
  repeatableEnum,
  type Schemas,
  secondsOption,
  sleep,
} from "./common.js";
import { PAGE_SIZE } from "./project.js";
import { orderedStatuses } from "./task.js";

type Job = Api<"HTCJob">;
type JobDefinition = Schemas["HTCJobDefinition"];

interface SubmitFlags {
  image?: string;
  command?: string[];
  env?: [string, string][];
  claim?: [string, string][];
  name?: string;
  count?: number;
  batchSize?: number;
  group?: string;
  maxVcpus?: number;
  maxMemory?: number;
  maxDisk?: number;
  timeout?: number;
  architecture?: (typeof ARCHITECTURES)[number];
  priority?: (typeof PRIORITIES)[number];
  region?: (typeof RESCALE_REGIONS)[number][];
  retries?: number;
  workingDir?: string;
  wait?: boolean;
  interval: number;
  waitTimeout?: number;
}

export function registerJobCommands(program: Command): void {
  const job = program.command("job").description("submit jobs, list and inspect them, follow logs, cancel, watch progress");

  job
    .command("submit")
    .argument("[file]", "JSON file with an array of HTCJobSubmitRequest (or one), or - for stdin; alternatively use --image")
    .summary("submit jobs from a JSON file, stdin or flags")
    .description(
      "submit jobs to the task, from a JSON file/stdin or from flags. Large submissions are split into batches of " +
        "at most 1000 jobs and requests of at most 100 batches. Prints the batches (parent job ids).",
    )
    .option("--image <name>", "image of the project's registry, repo[:tag]")
    .option("--command <arg>", "the command: repeat for argv elements, or give one shell string (run with sh -c)", repeatable)
    .option("-e, --env <KEY=VALUE[,KEY=VALUE…]>", "environment variables of the jobs (repeatable, or comma-separated pairs)", keyValueList)
    .option("--claim <name=value>", "claim added to the jobs' bearer tokens as userDefined_<name> (repeatable)", keyValue)
    .option("--name <jobName>", "job name")
    .option("--count <n>", "number of jobs (any number; split into batches)", intOption(1))
    .option("--batch-size <n>", "jobs per batch, 1…1000 (default: --count up to 1000)", intOption(1, 1000))
    .option("--group <group>", "group of the submitted jobs")
    .option("--max-vcpus <n>", "vCPUs per job, 1…64", intOption(1, 64))
    .option("--max-memory <MiB>", "memory per job in MiB, 4…235520", intOption(4, 235_520))
    .option("--max-disk <GiB>", "disk per job in GiB (GCP)", intOption(0, 64_000))
    .option("--timeout <seconds>", "execution timeout per job, 60…1209600 s", intOption(60, 1_209_600))
    .option("--architecture <arch>", `CPU architecture (${ARCHITECTURES.join(", ")})`, enumOption(ARCHITECTURES))
    .option("--priority <priority>", `${PRIORITIES.join(" or ")}`, enumOption(PRIORITIES))
    .option("--region <region>", "allowed region (repeatable)", repeatableEnum(RESCALE_REGIONS))
    .option("--retries <n>", "retries of a failed job, 0…10", intOption(0, 10))
    .addOption(
      new Option(
        "-w, --working-dir [dir]",
        "absolute working directory of the commands, with the project's storage mounted (a bare -w: the current folder)",
      )
        .preset(".")
        .argParser(workingDirOption),
    )
    // The official CLI spells it -W.
    .addOption(aliasOf(new Option("-W [dir]").preset(".").argParser(workingDirOption).hideHelp(), "workingDir"))
    .option("--wait", "then watch the jobs like `htc job watch` (exit code 3 if any failed)")
    .option("--interval <seconds>", "poll interval with --wait", secondsOption, 5)
    .option("--wait-timeout <seconds>", "give up waiting after this long (exit code 4)", secondsOption)
    .action(async (file: string | undefined, flags: SubmitFlags, command: Command) => {
      const session = sessionOf(command);
      const ids = session.ids();
      const client = session.client();
      let progressShown = false;
      const common = {
        ...ids,
        ...(flags.group !== undefined ? { group: flags.group } : {}),
        signal: session.signal,
        onProgress: (p: { jobsDone: number; jobsTotal: number; requestsTotal: number }) => {
          // Submissions of more than 100 batches take several requests: show how far they got on a terminal.
          if (p.requestsTotal > 1 && process.stderr.isTTY) {
            process.stderr.write(`\rsubmitted ${p.jobsDone}/${p.jobsTotal} jobs`);
            progressShown = true;
          }
        },
      };
      let options: SubmitJobsOptions;
      if (file !== undefined) {
        if (flags.image || flags.command || flags.count !== undefined || flags.batchSize !== undefined) {
          throw usageError("give either a JSON file or --image/--command/--count/--batch-size, not both");
        }
        options = { ...common, batches: batchesFromJson(await readJsonInput(file), flags) };
      } else {
        if (!flags.image)
          throw usageError("nothing to submit: give a JSON file (or - for stdin) or --image", "see `htc job submit --help`");
        const count = flags.count ?? flags.batchSize ?? 1;
        options = { ...common, template: templateFromFlags(flags), count, batchSize: flags.batchSize ?? Math.min(count, 1000) };
      }
      const submitted = await submitJobs(client, options);
      if (progressShown) process.stderr.write("\n");
      session.out.result(
        submitted.batches.map((b) => b.response),
        () => {
          session.out.line(
            `Submitted ${submitted.totalJobs} job(s) in ${submitted.batches.length} batch(es) to task ${ids.taskId}` +
              (flags.group ? ` (group ${flags.group})` : ""),
          );
          session.out.table(
            ["batch (parent job id)", "jobs", "first job", "last job"],
            submitted.batches.map((b) => [b.parentJobId, b.batchSize, `${b.parentJobId}:0`, `${b.parentJobId}:${b.batchSize - 1}`]),
          );
        },
      );
      if (flags.wait) {
        const summary = await watchJobs(session, {
          ...ids,
          ...(flags.group !== undefined ? { group: flags.group } : {}),
          intervalMs: flags.interval * 1000,
          ...(flags.waitTimeout !== undefined ? { timeoutMs: flags.waitTimeout * 1000 } : {}),
          ...(flags.group !== undefined ? { expectedJobs: submitted.totalJobs } : {}),
          quiet: session.out.machine,
        });
        if (summary.failed > 0) throw new ExitSignal(ExitCode.JOBS_FAILED);
      }
    });

  job
    .command("get")
    .alias("list")
    .argument("[jobId]", "one job (<parentJobId>:<index>); without it, the task's jobs")
    .description("list the task's jobs (filtered, sorted) or show one job")
    .addOption(new Option("--filter <status>", `only jobs in this status (${JOB_STATUSES.join(", ")})`).argParser(enumOption(JOB_STATUSES)))
    .addOption(aliasOf(new Option("--status <status>", "same as --filter").argParser(enumOption(JOB_STATUSES)), "filter"))
    .option("--group <group>", "only jobs of this group")
    .option("--job-id <id>", "only these jobs (repeatable)", repeatable)
    .option("--view <view>", "SIMPLE or FULL (server-side detail level)", enumOption(["SIMPLE", "FULL"] as const), "FULL")
    .option(
      "--sort <field[:order]>",
      "sort by created, completed, status or any job field, e.g. completedAt:desc, container.exitCode",
      sortOption,
    )
    .option("-r, --reverse", "reverse the order (by default of creation)")
    .option("-l, --limit <n>", "print at most n jobs", intOption(1))
    .option("-L, --latest <n>", "the n latest jobs: like --limit n --reverse --sort created", intOption(1))
    .action(
      async (
        jobId: string | undefined,
        opts: {
          filter?: Job["status"];
          group?: string;
          jobId?: string[];
          view: "SIMPLE" | "FULL";
          sort?: JobSort;
          reverse?: boolean;
          limit?: number;
          latest?: number;
        },
        command: Command,
      ) => {
        const session = sessionOf(command);
        if (opts.latest !== undefined && opts.limit !== undefined)
          throw usageError("-L/--latest and -l/--limit exclude each other (--latest n is --limit n --reverse --sort created)");
        if (opts.latest !== undefined && (opts.sort || opts.reverse))
          throw usageError("-L/--latest sorts by itself: it cannot be combined with --sort or -r/--reverse");
        const ids = session.ids();
        const client = session.client();
        if (jobId !== undefined) {
          const found = await unwrap(
            client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", {
              params: { path: { ...ids, jobId } },
              signal: session.signal,
            }),
          );
          session.out.result(found, () => showJob(session, found));
          return;
        }
        const limit = opts.latest ?? opts.limit;
        const reverse = Boolean(opts.reverse || opts.latest !== undefined);
        // -r (and -L) without --sort reverse the order of creation.
        const base = opts.sort ?? (reverse ? parseSort("created") : undefined);
        const sort = base && reverse ? { ...base, direction: -base.direction as 1 | -1 } : base;
        const query = {
          viewType: opts.view,
          ...(opts.filter ? { status: opts.filter } : {}),
          ...(opts.group !== undefined ? { group: opts.group } : {}),
          ...(opts.jobId ? { jobId: opts.jobId } : {}),
        };
        const source = paginate(
          client,
          "/htc/projects/{projectId}/tasks/{taskId}/jobs",
          { params: { path: ids, query } },
          { pageSize: PAGE_SIZE, signal: session.signal },
        );
        // Without sorting, stop reading once --limit jobs arrived; sorting needs them all.
        let jobs = await collect(
          source,
          sort || limit === undefined ? { limit: Number.MAX_SAFE_INTEGER } : { limit, onOverflow: "truncate" },
        );
        if (sort) jobs = [...jobs].sort((a, b) => sort.direction * compareValues(fieldOf(a, sort.field), fieldOf(b, sort.field)));
        if (limit !== undefined) jobs = jobs.slice(0, limit);
        session.out.result(jobs, () =>
          session.out.table(
            ["job id", "status", "group", "created", "started", "completed", "exit", "failure"],
            jobs.map((j) => [
              j.jobUUID,
              j.status,
              j.group,
              time(j.createdAt),
              time(j.startedAt),
              time(j.completedAt),
              j.container?.exitCode,
              j.failureCode,
            ]),
          ),
        );
      },
    );

  job
    .command("events")
    .argument("<jobId>", "job id (<parentJobId>:<index>)")
    .description("the status changes of a job")
    .action(async (jobId: string, _opts, command: Command) => {
      const session = sessionOf(command);
      const ids = session.ids();
      const events = await collect(
        paginate(
          session.client(),
          "/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events",
          { params: { path: { ...ids, jobId } } },
          { pageSize: PAGE_SIZE, signal: session.signal },
        ),
        { limit: Number.MAX_SAFE_INTEGER },
      );
      session.out.result(events, () =>
        session.out.table(
          ["time", "status", "reason", "exit", "instance", "cancelled"],
          events.map((e) => [
            time(e.dateTime),
            e.status,
            e.statusReason,
            e.container?.exitCode,
            e.instanceId,
            e.userCancelledEvent ? "yes" : "",
          ]),
        ),
      );
    });

  job
    .command("logs")
    .argument("<jobId>", "job id (<parentJobId>:<index>)")
    .description("the output of a job, newest first (--asc: oldest first); -f follows a running job until it ends")
    .option("-f, --follow", "keep reading and print new lines until the job has finished (oldest first)")
    .option("--asc", "oldest lines first")
    .option("-l, --limit <n>", "print at most n lines", intOption(1))
    .option("--no-timestamps", "print the messages only")
    .option("--interval <seconds>", "poll interval of --follow", secondsOption, 5)
    .action(
      async (
        jobId: string,
        opts: { follow?: boolean; asc?: boolean; limit?: number; timestamps: boolean; interval: number },
        command: Command,
      ) => {
        const session = sessionOf(command);
        const ids = session.ids();
        const client = session.client();
        const print = (line: Api<"HTCLogEvent">) => {
          if (session.out.machine) session.out.printRecord(line);
          else session.out.line(opts.timestamps ? `${line.timestamp}  ${line.message}` : line.message);
        };
        const read = (sort: "asc" | "desc", limit?: number) =>
          collect(
            paginate(
              client,
              "/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs",
              { params: { path: { ...ids, jobId }, query: { sort } } },
              { pageSize: 1000, signal: session.signal },
            ),
            limit === undefined ? { limit: Number.MAX_SAFE_INTEGER } : { limit, onOverflow: "truncate" },
          );
        if (!opts.follow) {
          const lines = await read(opts.asc ? "asc" : "desc", opts.limit);
          if (session.out.machine) session.out.print(lines);
          else for (const line of lines) print(line);
          return;
        }
        // Follow, like the official CLI: re-read from the first page (oldest first) and print only lines newer
        // than the last one printed; lines sharing a timestamp are told apart by their position.
        let lastTime = Number.NEGATIVE_INFINITY;
        let printedAtLastTime = 0;
        let printed = 0;
        for (;;) {
          const current = await unwrap(
            client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", {
              params: { path: { ...ids, jobId } },
              signal: session.signal,
            }),
          );
          const lines = await read("asc");
          let seenAtLastTime = 0;
          for (const line of lines) {
            // Following needs the timestamps: a line without one cannot be placed.
            const t = Date.parse(requireMember(line, "timestamp", "a log line"));
            if (t < lastTime) continue;
            if (t === lastTime) {
              seenAtLastTime++;
              if (seenAtLastTime <= printedAtLastTime) continue;
              printedAtLastTime = seenAtLastTime;
            } else {
              lastTime = t;
              seenAtLastTime = 1;
              printedAtLastTime = 1;
            }
            print(line);
            if (opts.limit !== undefined && ++printed >= opts.limit) return;
          }
          // The status was read before the logs, so a terminal status means every line has been printed.
          if (isTerminalStatus(current.status)) {
            if (!session.out.machine)
              session.out.info(`job ${jobId} ${current.status}${current.failureCode ? ` (${current.failureCode})` : ""}`);
            return;
          }
          await sleep(opts.interval * 1000, session.signal);
        }
      },
    );

  job
    .command("cancel")
    .description(
      "cancel jobs of the task: a --group, some --job-id, or without them every job of the task (as the official CLI; " +
        "--all says so explicitly). Best effort: finished jobs stay as they are",
    )
    .option("--group <group>", "cancel the jobs of this group")
    .option("--job-id <id>", "cancel this job (repeatable)", repeatable)
    .option("--all", "cancel every job of the task (the default without --group and --job-id)")
    .action(async (opts: { group?: string; jobId?: string[]; all?: boolean }, command: Command) => {
      const session = sessionOf(command);
      if (opts.all && (opts.group || opts.jobId)) throw usageError("--all cannot be combined with --group or --job-id");
      const ids = session.ids();
      const query = { ...(opts.group ? { group: opts.group } : {}), ...(opts.jobId ? { jobId: opts.jobId } : {}) };
      await unwrap(
        session
          .client()
          .api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", { params: { path: ids, query }, signal: session.signal }),
      );
      const all = !opts.group && !opts.jobId;
      const result = { cancelRequested: true, ...ids, group: opts.group ?? null, jobIds: opts.jobId ?? null };
      session.out.result(result, () => {
        const what = all
          ? `every job of task ${ids.taskId}`
          : [opts.group ? `group ${opts.group}` : "", opts.jobId ? `${opts.jobId.length} job(s)` : ""].filter(Boolean).join(" and ");
        session.out.line(`Cancellation requested for ${what} (jobs not yet finished end FAILED)`);
      });
    });

  job
    .command("watch")
    .description(
      "show live status counts and a progress bar until every job of the group (or task) has finished; exit code 3 if any failed",
    )
    .option("--group <group>", "watch this group (default: the whole task)")
    .option("--interval <seconds>", "poll interval", secondsOption, 5)
    .option("--timeout <seconds>", "give up after this long (exit code 4)", secondsOption)
    .option("--expected <n>", "jobs the group will have (guards against finishing before all are counted)", intOption(1))
    .action(async (opts: { group?: string; interval: number; timeout?: number; expected?: number }, command: Command) => {
      const session = sessionOf(command);
      const ids = session.ids();
      const summary = await watchJobs(session, {
        ...ids,
        ...(opts.group !== undefined ? { group: opts.group } : {}),
        intervalMs: opts.interval * 1000,
        ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout * 1000 } : {}),
        ...(opts.expected !== undefined ? { expectedJobs: opts.expected } : {}),
        quiet: session.out.machine,
      });
      if (session.out.machine) session.out.print(summary);
      if (summary.failed > 0) throw new ExitSignal(ExitCode.JOBS_FAILED);
    });
}

interface WatchOptions {
  projectId: string;
  taskId: string;
  group?: string;
  intervalMs: number;
  timeoutMs?: number;
  expectedJobs?: number;
  /** No live display (with --json the caller prints the final summary). */
  quiet: boolean;
}

/** Polls until done, showing a progress bar on a terminal and one line per change otherwise. */
export async function watchJobs(session: Session, options: WatchOptions): Promise<GroupSummary> {
  const out = session.out;
  const started = Date.now();
  const what = options.group === undefined ? `task ${options.taskId}` : `group ${options.group}`;
  let bar: import("cli-progress").SingleBar | undefined;
  if (!options.quiet && out.isTTY) {
    const { SingleBar, Presets } = await import("cli-progress");
    bar = new SingleBar(
      {
        format: `${what} {bar} {percentage}% {done}/{total} | {succeeded} succeeded, {failed} failed, {running} running, {queued} queued | {elapsed}`,
        hideCursor: true,
        stream: process.stdout,
        barsize: 30,
        etaBuffer: 20,
      },
      Presets.shades_classic,
    );
  }
  let lastLine = "";
  let first = true;
  try {
    const summary = await waitForGroup(session.client(), {
      projectId: options.projectId,
      taskId: options.taskId,
      ...(options.group !== undefined ? { group: options.group } : {}),
      intervalMs: options.intervalMs,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.expectedJobs !== undefined ? { expectedJobs: options.expectedJobs } : {}),
      signal: session.signal,
      onProgress: (s) => {
        if (first && s.total === 0) throw usageError(`${what} has no jobs`, "check the group name with `htc task groups`");
        const counts = breakdown(s);
        const payload = { ...counts, done: s.succeeded + s.failed, elapsed: duration(Date.now() - started) };
        if (bar) {
          if (first) bar.start(s.total, payload.done, payload);
          else {
            bar.setTotal(s.total);
            bar.update(payload.done, payload);
          }
        } else if (!options.quiet) {
          const line = `${payload.done}/${s.total} done: ${s.succeeded} succeeded, ${s.failed} failed, ${counts.running} running, ${counts.queued} queued`;
          if (line !== lastLine) out.line(`[${new Date().toISOString().slice(11, 19)}] ${what}: ${line}`);
          lastLine = line;
        }
        first = false;
      },
    });
    bar?.stop();
    bar = undefined;
    if (!options.quiet) {
      out.line(
        `${what} finished in ${duration(Date.now() - started)}: ${summary.succeeded} succeeded, ${summary.failed} failed of ${summary.total}`,
      );
      const statuses = orderedStatuses([summary.jobStatuses]).filter((s) => (summary.jobStatuses[s] ?? 0) > 0);
      out.table(
        ["status", "jobs"],
        statuses.map((s) => [s, summary.jobStatuses[s] ?? 0]),
      );
      if (summary.failed > 0)
        out.info(
          `${summary.failed} job(s) failed: list them with \`htc job get --status FAILED${options.group ? ` --group ${options.group}` : ""}\``,
        );
    }
    return summary;
  } finally {
    bar?.stop();
  }
}

function breakdown(s: GroupSummary): { total: number; succeeded: number; failed: number; running: number; queued: number } {
  const c = s.jobStatuses;
  const running = (c["RUNNING"] ?? 0) + (c["STARTING"] ?? 0);
  return { total: s.total, succeeded: s.succeeded, failed: s.failed, running, queued: Math.max(0, s.active - running) };
}

/** `-w` alone or `.` is the current folder; anything else must be absolute (`-w=/dir` is read as `/dir`). */
function workingDirOption(value: string): string {
  const dir = value.replace(/^=/, "");
  if (dir === "" || dir === ".") return process.cwd();
  if (!isAbsolute(dir))
    throw new InvalidArgumentError(
      `must be an absolute path, not ${JSON.stringify(dir)} (a bare -w means the current folder; put it after the JSON file)`,
    );
  return dir;
}

/** The batch template of the flags. */
function templateFromFlags(flags: SubmitFlags): Omit<JobBatchRequest, "batchSize"> {
  const definition: JobDefinition = {
    imageName: flags.image!,
    ...(flags.command ? { commands: commandOf(flags.command) } : {}),
    ...(flags.env ? { envs: flags.env.map(([name, value]) => ({ name, value })) } : {}),
    ...(flags.claim ? { claims: flags.claim.map(([name, value]) => ({ name, value })) } : {}),
    ...(flags.maxVcpus !== undefined ? { maxVCpus: flags.maxVcpus } : {}),
    ...(flags.maxMemory !== undefined ? { maxMemory: flags.maxMemory } : {}),
    ...(flags.maxDisk !== undefined ? { maxDiskGiB: flags.maxDisk } : {}),
    ...(flags.timeout !== undefined ? { execTimeoutSeconds: flags.timeout } : {}),
    ...(flags.architecture ? { architecture: flags.architecture } : {}),
    ...(flags.priority ? { priority: flags.priority } : {}),
    ...(flags.workingDir ? { workingDir: flags.workingDir } : {}),
  };
  return {
    ...(flags.name ? { jobName: flags.name } : {}),
    ...(flags.workingDir ? { experimental: { cloudFileSystems: true } } : {}),
    htcJobDefinition: definition,
    ...(flags.region ? { regions: flags.region } : {}),
    ...(flags.retries !== undefined ? { retryStrategy: { maxRetries: flags.retries } } : {}),
  };
}

/** Several --command values are an argv; a single one with shell syntax or spaces runs through `sh -c`. */
export function commandOf(values: string[]): string[] {
  if (values.length !== 1) return values;
  const only = values[0]!;
  return /[\s$|&;<>()`"'*?~]/.test(only) ? ["sh", "-c", only] : [only];
}

/** Batches of a JSON file: an array of HTCJobSubmitRequest (or a single one), with --env/--claim added. */
function batchesFromJson(value: unknown, flags: SubmitFlags): JobBatchRequest[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw usageError("the JSON holds no job batch");
  return list.map((raw, i) => {
    if (!raw || typeof raw !== "object" || !("htcJobDefinition" in raw)) {
      throw usageError(`element ${i} of the JSON is not an HTCJobSubmitRequest (it has no htcJobDefinition)`);
    }
    const batch = { ...(raw as JobBatchRequest) };
    const definition = { ...batch.htcJobDefinition };
    if (flags.env) definition.envs = [...(definition.envs ?? []), ...flags.env.map(([name, value]) => ({ name, value }))];
    if (flags.claim) definition.claims = [...(definition.claims ?? []), ...flags.claim.map(([name, value]) => ({ name, value }))];
    if (flags.maxVcpus !== undefined) definition.maxVCpus = flags.maxVcpus;
    if (flags.maxMemory !== undefined) definition.maxMemory = flags.maxMemory;
    if (flags.timeout !== undefined) definition.execTimeoutSeconds = flags.timeout;
    if (flags.workingDir !== undefined) {
      // As the official CLI: the folder, and the project's storage mounted as a file system.
      definition.workingDir = flags.workingDir;
      batch.experimental = { ...batch.experimental, cloudFileSystems: true };
    }
    batch.htcJobDefinition = definition;
    return batch;
  });
}

const SORT_ALIASES: Record<string, string> = {
  id: "jobUUID",
  job: "jobUUID",
  created: "createdAt",
  started: "startedAt",
  completed: "completedAt",
  updated: "updatedAt",
  exit: "container.exitCode",
  exitcode: "container.exitCode",
  failure: "failureCode",
};

/** The members of an HTCJob, from the contract (what --sort may name). */
const JOB_FIELDS = contractProperties("HTCJob");

interface JobSort {
  field: string;
  direction: 1 | -1;
}

/** `field[:asc|desc]`, with a few short names (created, completed, exit…); the field must be one of HTCJob's. */
export function parseSort(text: string): JobSort {
  const [rawField, order = "asc", ...rest] = text.split(":");
  if (!rawField || rest.length > 0 || !["asc", "desc"].includes(order.toLowerCase())) {
    throw new InvalidArgumentError(`expected field[:asc|desc], e.g. created, completedAt:desc`);
  }
  const field = SORT_ALIASES[rawField.toLowerCase()] ?? rawField;
  const top = field.split(".")[0]!;
  if (!JOB_FIELDS.includes(top)) {
    throw new InvalidArgumentError(
      `${JSON.stringify(rawField)} is not a job field: use created, completed, status or one of ${JOB_FIELDS.join(", ")}`,
    );
  }
  return { field, direction: order.toLowerCase() === "desc" ? -1 : 1 };
}

const sortOption = (value: string): JobSort => parseSort(value);

function fieldOf(job: Job, path: string): unknown {
  let value: unknown = job;
  for (const part of path.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

function showJob(session: Session, j: Job): void {
  const ran = j.startedAt && j.completedAt ? duration(Date.parse(j.completedAt) - Date.parse(j.startedAt)) : "";
  session.out.details([
    ["Job", j.jobUUID],
    ["Status", j.status],
    ["Reason", j.statusReason],
    ["Failure", j.failureCode],
    ["Exit code", j.container?.exitCode],
    ["Group", j.group],
    ["Image", j.imageName],
    ["Commands", j.commands ? JSON.stringify(j.commands) : ""],
    ["Region", j.region],
    ["Architecture", j.architecture],
    ["vCPUs / memory", j.maxVCpus !== undefined ? `${j.maxVCpus} / ${j.maxMemory} MiB` : ""],
    ["Timeout", j.execTimeoutSeconds !== undefined ? `${j.execTimeoutSeconds} s` : ""],
    ["Created", time(j.createdAt)],
    ["Started", time(j.startedAt)],
    ["Completed", time(j.completedAt)],
    ["Ran", ran],
    ["Instance", j.instanceId],
  ]);
}
