// Small pieces shared by the command groups: option parsers, reading JSON from a file or stdin, polling sleeps.
import { readFileSync } from "node:fs";
import type { components, Readable, Writable } from "@htcemu/client";
import { contractPath } from "@htcemu/openapi";
import { InvalidArgumentError, type Option } from "commander";
import { usageError } from "../errors.js";

/** Parses an integer option within bounds. */
export function intOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("not an integer");
    if (n < min || n > max)
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}` : `must be ${min}…${max}`);
    return n;
  };
}

/**
 * Makes `option` another spelling of the option stored as `target` (e.g. `--json` for `-o json`, `--filter` for
 * `--status`): its value lands under the same name, so the command reads one place and has one implementation.
 */
export function aliasOf(option: Option, target: string): Option {
  option.attributeName = () => target;
  return option;
}

/** Parses a positive number of seconds (fractions allowed). */
export function secondsOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of seconds");
  return n;
}

/**
 * Parses a duration: `90s`, `15m`, `6h`, `30d`, `1h30m`, `500ms`, or a plain number of `plain` units. The result is
 * in `unit` (seconds or milliseconds); `integer` refuses fractions of it.
 */
export function durationOption(options: {
  unit: "s" | "ms";
  plain?: "s" | "ms";
  integer?: boolean;
  min?: number;
}): (value: string) => number {
  const plain = options.plain ?? options.unit;
  return (value) => {
    const text = value.trim();
    let seconds: number;
    if (/^\d+(\.\d+)?$/.test(text)) seconds = Number(text) * DURATION_UNITS[plain];
    else {
      const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy)];
      if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
        throw new InvalidArgumentError(
          `not a duration: use e.g. 90s, 15m, 6h, 30d or 1h30m (a plain number is in ${plain === "s" ? "seconds" : "milliseconds"})`,
        );
      }
      seconds = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2] as keyof typeof DURATION_UNITS], 0);
    }
    // Rounded to a microsecond, so that `1.1s` in milliseconds is 1100, not 1100.0000000000002.
    const result = Math.round((options.unit === "ms" ? seconds * 1000 : seconds) * 1e6) / 1e6;
    if (options.integer && !Number.isInteger(result))
      throw new InvalidArgumentError(`must be a whole number of ${options.unit === "s" ? "seconds" : "milliseconds"}`);
    if (result < (options.min ?? 0)) throw new InvalidArgumentError(`must be at least ${options.min ?? 0}${options.unit}`);
    return result;
  };
}

const DURATION_UNITS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** A duration in seconds as `6h`, `1h30m`, `90s`, `1.5s` (for messages). */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (!Number.isInteger(seconds) || seconds < 60) return `${seconds}s`;
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}

/** A repeatable option whose values may also be comma-separated lists, each value parsed by `parse`. */
export function listOption<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [
    ...(previous ?? []),
    ...value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean)
      .map(parse),
  ];
}

/** Parses a number within bounds (fractions allowed). */
export function numberOption(min: number, max = Number.MAX_VALUE): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("not a number");
    if (n < min || n > max) throw new InvalidArgumentError(max === Number.MAX_VALUE ? `must be at least ${min}` : `must be ${min}…${max}`);
    return n;
  };
}

/** Collects a repeatable option into an array. */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Collects repeatable `KEY=VALUE` options. */
export function keyValue(value: string, previous: [string, string][] | undefined): [string, string][] {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got ${JSON.stringify(value)}`);
  return [...(previous ?? []), [value.slice(0, eq), value.slice(eq + 1)]];
}

/**
 * Collects `KEY=VALUE` pairs given as repeatable options and/or comma-separated (`-e A=1,B=2`, as the official
 * CLI). A comma starts a new pair only where `NAME=` follows, so `LIST=a,b` stays one value.
 */
export function keyValueList(value: string, previous: [string, string][] | undefined): [string, string][] {
  return value.split(/,(?=[A-Za-z_][A-Za-z0-9_]*=)/).reduce<[string, string][]>((pairs, pair) => keyValue(pair, pairs), previous ?? []);
}

/** Upper-cases a value and checks it against a list (enums of the API). */
export function enumOption<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    const v = value.toUpperCase() as T;
    if (!values.includes(v)) throw new InvalidArgumentError(`must be one of ${values.join(", ")}`);
    return v;
  };
}

/** A commander parser for a fixed list of (case-sensitive) values. */
export function choice<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${values.join(", ")}`);
    return value as T;
  };
}

/** A repeatable enum option: each value checked (and upper-cased) as it is parsed. */
export function repeatableEnum<T extends string>(values: readonly T[]): (value: string, previous: T[] | undefined) => T[] {
  const parse = enumOption(values);
  return (value, previous) => [...(previous ?? []), parse(value)];
}

/** Reads all of stdin as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads and parses JSON from a file, or from stdin for `-`. */
export async function readJsonInput(source: string): Promise<unknown> {
  let text: string;
  if (source === "-") text = await readStdin();
  else {
    try {
      text = readFileSync(source, "utf8");
    } catch (error) {
      throw usageError(`cannot read ${source}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError(`${source === "-" ? "stdin" : source} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Waits `ms`, or less when the signal aborts (then rejects with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Natural comparison: `b:2` before `b:10`, numbers numerically, missing values last. */
export function compareValues(a: unknown, b: unknown): number {
  const missingA = a === null || a === undefined || a === "";
  const missingB = b === null || b === undefined || b === "";
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

type ContractSchema = { enum?: unknown[]; properties?: Record<string, unknown> };

function contractSchema(name: string): ContractSchema | undefined {
  contractSchemas ??= (JSON.parse(readFileSync(contractPath, "utf8")) as { components: { schemas: Record<string, ContractSchema> } })
    .components.schemas;
  return contractSchemas[name];
}
let contractSchemas: Record<string, ContractSchema> | undefined;

/** The values of an enum of the contract: the contract is their one home, the generated types check their use. */
function contractEnum<N extends keyof Schemas>(name: N): readonly Schemas[N][] {
  const values = contractSchema(name)?.enum?.filter((v) => v !== null);
  if (!values?.length) throw new Error(`the contract has no enum ${name}`);
  return values as Schemas[N][];
}

/** The member names of an object schema of the contract. */
export function contractProperties(name: keyof Schemas): string[] {
  const properties = Object.keys(contractSchema(name)?.properties ?? {});
  if (properties.length === 0) throw new Error(`the contract has no object schema ${name}`);
  return properties;
}

/** The regions of the API (RescaleRegion), for option validation and help. */
export const RESCALE_REGIONS = contractEnum("RescaleRegion");
/** The regions a `{region}` path parameter accepts (SupportedRescaleRegion). */
export const SUPPORTED_REGIONS = contractEnum("SupportedRescaleRegion");
export const JOB_STATUSES = contractEnum("RescaleJobStatus");
export const CLOUD_PROVIDERS = contractEnum("CloudProvider");
export const ARCHITECTURES = contractEnum("Architecture");
export const PRIORITIES = contractEnum("JobPriority");
export const MODIFIER_ROLES = contractEnum("ModifierRole");
export const LIFECYCLE_STATUSES = contractEnum("LifecycleStatus");

export type Schemas = components["schemas"];
/** A schema as the API sends it (read-only fields present, write-only ones absent). */
export type Api<K extends keyof Schemas> = Readable<Schemas[K]>;
/** A schema as a request body (read-only fields absent). */
export type ApiInput<K extends keyof Schemas> = Writable<Schemas[K]>;
