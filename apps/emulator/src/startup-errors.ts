// Start-up failures the user fixes with one setting: a data folder that cannot be written, a port that is taken or
// cannot be had. startEmulator() throws them as StartupError, whose message is one line saying what is wrong and
// what to set, worded for where the emulator runs: the htcemu/emulator image (mounts and -e variables) or a shell
// (flags). The command line prints that line and exits 1.
import { accessSync, constants, mkdirSync } from "node:fs";
import { processUid, runningImage } from "./container.js";

export type StartupProblem = { kind: "data-dir"; dir: string; code: string } | { kind: "listen"; host: string; port: number; code: string };

export class StartupError extends Error {
  override readonly name = "StartupError";
  constructor(
    readonly problem: StartupProblem,
    message: string,
  ) {
    super(message);
  }
}

interface Where {
  /** The image's reference when the emulator runs from it. */
  image: string | undefined;
  uid: number | undefined;
}

const here = (): Where => ({ image: runningImage(), uid: processUid() });

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? "";
}

/** Creates the data folder if needed and makes sure this process may write in it. */
export function checkDataDir(dir: string, where: Where = here()): void {
  try {
    mkdirSync(dir, { recursive: true });
    // On a read-only mount this says EROFS, on a folder of another user EACCES.
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = codeOf(error) || "EUNKNOWN";
    throw new StartupError({ kind: "data-dir", dir, code }, dataDirMessage(dir, code, where));
  }
}

export function dataDirMessage(dir: string, code: string, where: Where): string {
  const readOnly = code === "EROFS";
  const user = where.uid === undefined ? "this user" : `this user (uid ${where.uid})`;
  const what = readOnly
    ? "is on a read-only file system"
    : code === "EACCES" || code === "EPERM"
      ? `is not writable by ${user}`
      : `cannot be used (${code})`;
  if (where.image) {
    const fix = readOnly
      ? `mount a writable folder there (-v "$PWD/.htc:/data", without :ro)`
      : code === "EACCES" || code === "EPERM"
        ? `make the mounted folder writable for uid ${where.uid ?? "?"} (on the host: chown ${where.uid ?? "<uid>"} .htc), or run the container as root (the image's default)`
        : `mount a writable folder there (-v "$PWD/.htc:/data")`;
    return `the data folder ${dir} ${what}: ${fix}, or keep the state in memory with -e HTC_EMULATOR_IN_MEMORY=1`;
  }
  return `the data folder ${dir} ${what}: choose another with --data-dir (HTC_EMULATOR_DATA_DIR), or keep the state in memory with --in-memory`;
}

/** The error of a failed listen(), as a StartupError when it is one of the usual ones (else unchanged). */
export function listenError(error: unknown, host: string, port: number, where: Where = here()): unknown {
  const code = codeOf(error);
  const message = listenMessage(host, port, code, where);
  return message ? new StartupError({ kind: "listen", host, port, code }, message) : error;
}

export function listenMessage(host: string, port: number, code: string, where: Where): string | undefined {
  const portSetting = where.image ? "-e HTC_EMULATOR_PORT=<port>" : "--port <port> (HTC_EMULATOR_PORT; 0 picks a free one)";
  const hostSetting = where.image ? "-e HTC_EMULATOR_HOST" : "--host (HTC_EMULATOR_HOST)";
  switch (code) {
    case "EADDRINUSE":
      return where.image
        ? `port ${port} on ${host} is already in use (with --network host the container shares the host's ports; another emulator?): set another with ${portSetting}, or stop what listens there`
        : `port ${port} on ${host} is already in use (another emulator?): choose another with ${portSetting}, or stop what listens there`;
    case "EACCES":
      return `this user may not listen on port ${port} of ${host} (ports below 1024 need root): choose a port from 1024 up with ${portSetting}`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${host}: no interface here has that address; set ${hostSetting} to 127.0.0.1 (or 0.0.0.0 for every interface)`;
    default:
      return undefined;
  }
}
