// The command line of htcctl, as the official tool has it: options may come before or after the sub-command
// (`htcctl -s --project-id P upload *`, `htcctl download KEY -d out/`).
import { parseArgs } from "node:util";

export const COMMANDS = ["upload", "download", "list"] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface Options {
  command: CommandName;
  /** Files (upload), object keys (download) or an optional prefix (list). */
  operands: string[];
  projectShared: boolean;
  projectId?: string;
  taskId?: string;
  region?: string;
  apiUrl?: string;
  /** Download destination folder. */
  dest: string;
  /** Transfers at once. */
  parallel: number;
  quiet: boolean;
  long: boolean;
}

export type Parsed = { kind: "run"; options: Options } | { kind: "help" } | { kind: "version" };

export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `usage: htcctl [options] <command> [arguments]

Moves files between this machine (or a job's container) and Rescale HTC storage: the storage of the
current task (the default), or the project's shared storage (-s). Object keys keep the relative path
given on the command line: \`htcctl upload out/a.dat\` creates the object out/a.dat.

commands:
  upload FILE...       upload files (folders recursively)
  download KEY...      download objects (a key naming a folder downloads everything below it)
  list [PREFIX]        list the objects (below PREFIX)

options:
  -s, --project-shared the project's shared storage instead of the task's
  --project-id ID      project (default: RESCALE_HTC_PROJECT_ID)
  --task-id ID         task (default: RESCALE_HTC_TASK_ID)
  --region REGION      storage region, e.g. AWS_US_EAST_2 (default: RESCALE_HTC_REGION, else the project's)
  --api-url URL        API base URL (default: RESCALE_HTC_API_URL, else https://htc.rescale.com/api/v1)
  -d, --dest DIR       download into DIR (default: the current folder)
  -j, --parallel N     transfers at once (default 8)
  -l, --long           list: sizes and modification times too
  -q, --quiet          print nothing but errors
  -h, --help, --version

credentials: RESCALE_HTC_BEARER_TOKEN (inside a job; renewed with RESCALE_HTC_REFRESH_TOKEN when it
expires), or an API key in RESCALE_API_TOKEN.`;

export function parseCommandLine(argv: string[]): Parsed {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const [command, ...operands] = positionals;
  if (command === undefined) throw new UsageError("a command is needed: upload, download or list");
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new UsageError(`unknown command ${JSON.stringify(command)}: use upload, download or list`);
  if ((command === "upload" || command === "download") && operands.length === 0) {
    throw new UsageError(`${command} needs at least one ${command === "upload" ? "file" : "object key"}`);
  }
  if (command === "list" && operands.length > 1) throw new UsageError("list takes at most one prefix");
  const parallel = values.parallel === undefined ? 8 : Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError("--parallel must be an integer from 1 to 64");
  return {
    kind: "run",
    options: {
      command: command as CommandName,
      operands,
      projectShared: values["project-shared"] ?? false,
      ...(values["project-id"] ? { projectId: values["project-id"] } : {}),
      ...(values["task-id"] ? { taskId: values["task-id"] } : {}),
      ...(values.region ? { region: values.region } : {}),
      ...(values["api-url"] ? { apiUrl: values["api-url"] } : {}),
      dest: values.dest ?? ".",
      parallel,
      quiet: values.quiet ?? false,
      long: values.long ?? false,
    },
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      "project-shared": { type: "boolean", short: "s" },
      "project-id": { type: "string" },
      "task-id": { type: "string" },
      region: { type: "string" },
      "api-url": { type: "string" },
      dest: { type: "string", short: "d" },
      parallel: { type: "string", short: "j" },
      quiet: { type: "boolean", short: "q" },
      long: { type: "boolean", short: "l" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
}
