// Exit codes and the one place errors become messages. Every failure of a command ends here, so the same kind of
// problem always gives the same exit code and the same shape of message (or of JSON, with --json).
import { HtcApiError, HtcError, HtcNetworkError, HtcSubmitError, HtcTimeoutError } from "@htcemu/client";
import { ADMIN_PREFIX } from "@htcemu/client/admin";
import { CommanderError } from "commander";

/** The exit codes of `htc` (documented in README.md). */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** The API answered with an error (4xx/5xx). */
  API: 1,
  /** The command line or the configuration is wrong (unknown flag, missing id, no credentials…). */
  USAGE: 2,
  /** Jobs finished, but some of them failed (`job watch`, `job submit --wait`). */
  JOBS_FAILED: 3,
  /** No answer: network error, or a request or wait ran out of time. */
  NETWORK: 4,
  /** A local tool or transfer failed (docker, storage transfer, file access). */
  EXTERNAL: 5,
  /** `emulator exec`: the command was found but could not be run (like env(1)). */
  CANNOT_EXECUTE: 126,
  /** `emulator exec`: the command was not found (like env(1)). */
  COMMAND_NOT_FOUND: 127,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI raises itself, with its exit code and an optional hint. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, ExitCode.USAGE, hint);
}

export function externalError(message: string, hint?: string): CliError {
  return new CliError(message, ExitCode.EXTERNAL, hint);
}

/**
 * Ends a command with an exit code but no message (e.g. jobs failed; the command printed the details). Besides the
 * codes of `htc`, `emulator exec` ends with the exit code of the command it ran (any number).
 */
export class ExitSignal extends Error {
  override name = "ExitSignal";
  constructor(readonly exitCode: ExitCodeValue | number) {
    super(`exit ${exitCode}`);
  }
}

export interface DescribedError {
  exitCode: ExitCodeValue;
  message: string;
  hint?: string;
  /** For --json: a machine-readable description. */
  json: Record<string, unknown>;
}

/** Maps any thrown value to an exit code and a message. */
export function describeError(error: unknown): DescribedError {
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, message: error.message, hint: error.hint, json: { message: error.message } };
  }
  if (error instanceof HtcSubmitError) {
    const inner = describeError(error.cause);
    const accepted = error.submitted.map((b) => b.parentJobId);
    return {
      ...inner,
      message: `${error.message}`,
      hint: `accepted batches: ${accepted.join(", ")}`,
      json: { ...inner.json, message: error.message, acceptedBatches: accepted },
    };
  }
  if (error instanceof HtcApiError) {
    const what = [error.errorType, error.errorDescription].filter(Boolean).join(": ") || `HTTP ${error.status}`;
    const extra = error.serverMessage && error.serverMessage !== error.errorDescription ? ` (${error.serverMessage})` : "";
    const path = safePath(error.request.url);
    return {
      exitCode: ExitCode.API,
      message: `${what}${extra} [${error.status} on ${error.request.method} ${path}]`,
      hint: hintForStatus(error),
      json: {
        status: error.status,
        errorType: error.errorType ?? null,
        errorDescription: error.errorDescription ?? null,
        message: error.serverMessage ?? null,
        request: { method: error.request.method, url: error.request.url },
      },
    };
  }
  if (error instanceof HtcNetworkError || error instanceof HtcTimeoutError) {
    const emulator = emulatorRoot(error.request?.url);
    if (emulator !== undefined) {
      // The test controls talk to an emulator's admin API: say so, and how to get one.
      const why = error instanceof HtcTimeoutError ? `no answer within ${error.timeoutMs / 1000} s` : describeCause(error.cause);
      const message = `no emulator answers at ${emulator}: ${why}`;
      return {
        exitCode: ExitCode.NETWORK,
        message,
        hint: "start one with `htc emulator start`, or pass --emulator-url",
        json: { code: error.code, message },
      };
    }
    return {
      exitCode: ExitCode.NETWORK,
      message: error.message,
      hint: error instanceof HtcNetworkError ? "is the API (or the emulator) running at that address?" : undefined,
      json: { code: error.code, message: error.message },
    };
  }
  if (error instanceof HtcError) {
    const exitCode = error.code === "CONFIG" ? ExitCode.USAGE : ExitCode.API;
    const hint =
      error.code === "CONFIG" ? "run `htc auth login`, `htc config set <context> --url … --key …`, or set RESCALE_API_KEY" : undefined;
    return { exitCode, message: error.message, hint, json: { code: error.code, message: error.message } };
  }
  if (error instanceof RangeError) {
    // The client's argument checks (batch sizes, counts) throw RangeError: a usage problem.
    return { exitCode: ExitCode.USAGE, message: error.message, json: { message: error.message } };
  }
  if (error instanceof SyntaxError) {
    return { exitCode: ExitCode.USAGE, message: `invalid JSON: ${error.message}`, json: { message: error.message } };
  }
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === "string" && /^E[A-Z]+$/.test(errno)) {
    const message = (error as Error).message;
    return { exitCode: ExitCode.EXTERNAL, message, json: { code: errno, message } };
  }
  if (error instanceof Error && error.name === "AbortError") {
    return { exitCode: ExitCode.INTERRUPTED, message: "interrupted", json: { message: "interrupted" } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: ExitCode.API, message, json: { message } };
}

/** The emulator's root URL when `url` is one of its admin API's. */
function emulatorRoot(url: string | undefined): string | undefined {
  const at = url?.indexOf(`${ADMIN_PREFIX}/`) ?? -1;
  return at > 0 ? url!.slice(0, at) : undefined;
}

/** `ECONNREFUSED` rather than fetch's "fetch failed". */
function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function hintForStatus(error: HtcApiError): string | undefined {
  if (error.status === 401 && emulatorRoot(error.request.url) !== undefined)
    return "the emulator's admin API requires its admin token (printed at its start): pass --admin-token or set HTC_EMULATOR_ADMIN_TOKEN";
  if (error.status === 401)
    return "the API key or token was refused: check it with `htc auth whoami`, or log in again with `htc auth login`";
  if (error.status === 403) return "the API refused this operation for your user";
  return undefined;
}

function safePath(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

/** Commander's own errors: help and version end with 0, everything else is a usage error. */
export function commanderExitCode(error: CommanderError): ExitCodeValue {
  if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return ExitCode.OK;
  if (error.exitCode === 0) return ExitCode.OK;
  return ExitCode.USAGE;
}

export { CommanderError };
