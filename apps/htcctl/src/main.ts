// htcctl: upload, download and list the files of a task's storage or of the project's shared storage, from inside
// a job (with only what the runtime injects) or from a workstation (with an API key and --project-id/--task-id).
import { type Options, parseCommandLine, USAGE, UsageError } from "./args.js";
import { apiFrom, apiUrlOf, type Env } from "./auth.js";
import {
  downloadObject,
  type Folder,
  listObjects,
  localPathOf,
  normalizeKey,
  openFolder,
  type Planned,
  planUpload,
  uploadFile,
  type Where,
} from "./storage.js";

export const VERSION = "0.1.0";

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes: 0 done, 1 a transfer or the API failed, 2 the command line is wrong. */
export async function run(argv: string[], env: Env = process.env, io: Io = defaultIo): Promise<number> {
  let options: Options;
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === "help") {
      io.out(USAGE);
      return 0;
    }
    if (parsed.kind === "version") {
      io.out(`htcctl ${VERSION} (htc-emulator)`);
      return 0;
    }
    options = parsed.options;
  } catch (error) {
    return fail(io, error);
  }
  try {
    const projectId = options.projectId ?? env["RESCALE_HTC_PROJECT_ID"];
    const taskId = options.taskId ?? env["RESCALE_HTC_TASK_ID"];
    if (!projectId) throw new UsageError("no project: pass --project-id or set RESCALE_HTC_PROJECT_ID");
    if (!options.projectShared && !taskId)
      throw new UsageError("no task: pass --task-id or set RESCALE_HTC_TASK_ID (or use -s for the project's shared storage)");
    const region = options.region ?? env["RESCALE_HTC_REGION"];
    // Check the local side before asking the API for anything.
    const plan = options.command === "upload" ? planUpload(options.operands) : [];
    const keys = options.command === "download" ? options.operands.map((k) => normalizeKey(k)) : [];
    const folder = await folderFor(env, apiUrlOf(env, options.apiUrl), {
      projectId,
      ...(options.projectShared ? {} : { taskId }),
      ...(region ? { region } : {}),
    });
    return await perform(folder, options, plan, keys, io);
  } catch (error) {
    return fail(io, error);
  }
}

/**
 * Folders opened in this process, by credentials and place: when a program runs htcctl several times in-process
 * (the tutorial's workload does), later runs reuse the first one's storage credentials (renewed when they
 * expire) and S3 connections instead of asking the API again.
 */
const folders = new Map<string, Promise<Folder>>();

function folderFor(env: Env, apiUrl: string, where: Where): Promise<Folder> {
  const credentials = ["RESCALE_HTC_BEARER_TOKEN", "RESCALE_HTC_REFRESH_TOKEN", "RESCALE_API_TOKEN", "RESCALE_API_KEY"].map(
    (name) => env[name] ?? "",
  );
  const key = JSON.stringify([apiUrl, credentials, where.projectId, where.taskId ?? null, where.region ?? null]);
  let folder = folders.get(key);
  if (!folder) {
    folder = openFolder(apiFrom(env, apiUrl), where);
    folders.set(key, folder);
    // A failure is not remembered: the next run asks again.
    folder.catch(() => folders.delete(key));
  }
  return folder;
}

async function perform(folder: Folder, options: Options, plan: Planned[], keys: string[], io: Io): Promise<number> {
  const say = options.quiet ? () => {} : io.out;
  switch (options.command) {
    case "upload":
      await runLimited(plan, options.parallel, async (item) => {
        await uploadFile(folder, item);
        say(`upload: ${item.file} to ${folder.uri}${item.key}`);
      });
      return 0;
    case "download":
      return await download(folder, keys, options, say, io);
    case "list": {
      const prefix =
        options.operands[0] === undefined ? "" : normalizeKey(options.operands[0]) + (options.operands[0].endsWith("/") ? "/" : "");
      for (const o of await listObjects(folder, prefix)) {
        io.out(options.long ? `${o.lastModified?.toISOString() ?? "-"}  ${String(o.size).padStart(12)}  ${o.key}` : o.key);
      }
      return 0;
    }
  }
}

async function download(folder: Folder, keys: string[], options: Options, say: (line: string) => void, io: Io): Promise<number> {
  const fetchOne = async (key: string): Promise<boolean> => {
    const target = localPathOf(options.dest, key);
    const size = await downloadObject(folder, key, target);
    if (size !== false) say(`download: ${folder.uri}${key} to ${target}`);
    return size !== false;
  };
  // Objects first; a key that names no object may name a folder, whose objects all come down (keeping their path).
  const folders: string[] = [];
  await runLimited(keys, options.parallel, async (key) => {
    if (key === "" || !(await fetchOne(key))) folders.push(key);
  });
  let missing = 0;
  const below: string[] = [];
  for (const key of folders) {
    const objects = await listObjects(folder, key === "" ? "" : `${key}/`);
    if (objects.length === 0) {
      io.err(`htcctl: no object or folder ${JSON.stringify(key)} in ${folder.uri}`);
      missing++;
    }
    below.push(...objects.map((o) => o.key));
  }
  await runLimited(below, options.parallel, async (key) => {
    if (!(await fetchOne(key))) throw new Error(`${key} vanished while downloading`);
  });
  return missing > 0 ? 1 : 0;
}

function fail(io: Io, error: unknown): number {
  if (error instanceof UsageError) {
    io.err(`htcctl: ${error.message}`);
    io.err("Try 'htcctl --help'.");
    return 2;
  }
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  // The S3 SDK's errors carry $metadata; the API's (ApiError) and the others say what failed themselves.
  const status = e?.$metadata?.httpStatusCode;
  const what = e?.$metadata ? `storage: ${e.name}${status ? ` (HTTP ${status})` : ""}: ${e.message}` : (e?.message ?? String(error));
  io.err(`htcctl: ${what}`);
  return 1;
}

/** Runs `work` over `items`, at most `limit` at a time; the first failure stops taking new items and is thrown. */
async function runLimited<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  const results = await Promise.allSettled(workers);
  const rejected = results.find((r) => r.status === "rejected");
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
}
