// Output: human-readable tables by default (`-o text`), the API's JSON with `-o json` (or `--json`), the same as
// YAML with `-o yaml`. Results go to stdout; progress, notices and errors go to stderr, so `htc … -o json | jq`
// always reads clean JSON.
import { createRequire } from "node:module";
import Table from "cli-table3";

export type Cell = string | number | boolean | null | undefined;

/** The values of the global `-o/--output` option (and of the config file's `output_format`). */
export const OUTPUT_FORMATS = ["text", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Output {
  readonly format: OutputFormat;
  /** True with `-o json` and `-o yaml`: results are data, not tables, and progress stays off stdout. */
  readonly machine: boolean;
  /** Whether stdout is a terminal (live displays, colours). */
  readonly isTTY: boolean;
  /** Writes a line (or lines) to stdout. */
  line(text?: string): void;
  /** Writes raw text to stdout. */
  write(text: string): void;
  /** Writes a notice to stderr (never mixed into results). */
  info(text: string): void;
  /** Prints a value as indented JSON, or as YAML with `-o yaml`. */
  print(value: unknown): void;
  /** Prints one record of a stream (`job logs -f -o json`): a line of JSON, or a YAML document. */
  printRecord(value: unknown): void;
  /** A borderless table with a header row. */
  table(columns: string[], rows: Cell[][]): void;
  /** Key/value lines for a single resource. */
  details(entries: [string, Cell | Cell[]][]): void;
  /** The data with `-o json|yaml`, otherwise the human rendering. */
  result(value: unknown, human: () => void): void;
}

/** A value as the format prints it (a JSON record on one line, a YAML record as its own document). */
export function formatData(format: Exclude<OutputFormat, "text">, value: unknown, record = false): string {
  if (format === "yaml") return `${record ? "---\n" : ""}${yaml().stringify(value ?? null)}`;
  return `${record ? JSON.stringify(value ?? null) : JSON.stringify(value ?? null, null, 2)}\n`;
}

// The YAML library takes longer to load than most commands run: only `-o yaml` loads it.
let yamlModule: typeof import("yaml") | undefined;
function yaml(): typeof import("yaml") {
  yamlModule ??= createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return yamlModule;
}

export function createOutput(options: { format: OutputFormat; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream }): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const data = options.format === "text" ? "json" : options.format;
  const out: Output = {
    format: options.format,
    machine: options.format !== "text",
    isTTY: Boolean(stdout.isTTY),
    line: (text = "") => {
      stdout.write(`${text}\n`);
    },
    write: (text) => {
      stdout.write(text);
    },
    info: (text) => {
      stderr.write(`${text}\n`);
    },
    print: (value) => {
      stdout.write(formatData(data, value));
    },
    printRecord: (value) => {
      stdout.write(formatData(data, value, true));
    },
    table: (columns, rows) => {
      stdout.write(`${renderTable(columns, rows)}\n`);
    },
    details: (entries) => {
      const width = Math.max(0, ...entries.map(([k]) => k.length));
      for (const [key, value] of entries) {
        const text = Array.isArray(value) ? value.map(cell).filter(Boolean).join(", ") : cell(value);
        stdout.write(`${`${key}:`.padEnd(width + 2)}${text}\n`);
      }
    },
    result: (value, human) => {
      if (out.machine) out.print(value);
      else human();
    },
  };
  return out;
}

const BORDERLESS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
};

/** A kubectl-like table: upper-case header, columns separated by two spaces, no borders or colours. */
export function renderTable(columns: string[], rows: Cell[][]): string {
  const table = new Table({
    head: columns.map((c) => c.toUpperCase()),
    chars: BORDERLESS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
  });
  for (const row of rows) table.push(row.map(cell));
  // cli-table3 pads the last column too; trim trailing spaces of every line.
  return table
    .toString()
    .split("\n")
    .map((l) => l.replace(/\s+$/, ""))
    .join("\n");
}

/** A cell's text: empty for null/undefined, `-` never invented. */
export function cell(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value);
}

/** `2024-04-02T12:00:00.123Z` → `2024-04-02 12:00:00Z` (UTC, seconds): compact and unambiguous. */
export function time(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** A duration in ms as `1h02m`, `3m05s`, `4.2s`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  return `${m}m${String(sec).padStart(2, "0")}s`;
}

/** Shows the first and last characters of a secret. */
export function maskSecret(secret: string | undefined): string {
  if (!secret) return "";
  if (secret.length <= 8) return "****";
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}
