// What the tutorial prints: numbered steps with their duration, commands as a terminal would show them, a
// progress bar while jobs run (redrawn in place on a terminal, a line every few seconds in CI logs), tables.
import { spawn } from "node:child_process";

const tty = process.stdout.isTTY === true && process.env["CI"] === undefined;
const paint = (code: string) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = paint("1");
export const dim = paint("2");
export const green = paint("32");
export const red = paint("31");
export const yellow = paint("33");
export const cyan = paint("36");

export interface StepTiming {
  number: number;
  title: string;
  seconds: number;
}

export class Steps {
  readonly timings: StepTiming[] = [];
  private current: { number: number; title: string; started: number } | undefined;
  readonly started = performance.now();

  constructor(private readonly total: number) {}

  /** Starts step `number` (closing the previous one). */
  begin(number: number, title: string): void {
    this.end();
    this.current = { number, title, started: performance.now() };
    console.log(`\n${bold(cyan(`[${number}/${this.total}]`))} ${bold(title)}`);
  }

  end(): void {
    if (!this.current) return;
    const seconds = (performance.now() - this.current.started) / 1000;
    this.timings.push({ number: this.current.number, title: this.current.title, seconds });
    console.log(`      ${green("✓")} ${dim(`${seconds.toFixed(1)} s`)}`);
    this.current = undefined;
  }

  /** The step that was running when something failed. */
  get failing(): string | undefined {
    return this.current ? `[${this.current.number}/${this.total}] ${this.current.title}` : undefined;
  }

  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}

/** An indented line of output under the current step. */
export function say(text = ""): void {
  for (const line of text.split("\n")) console.log(`      ${line}`);
}

/** Shows a command the way a terminal session would. */
export function showCommand(command: string): void {
  console.log(`      ${dim("$")} ${command}`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Text for stdin. */
  input?: string | Buffer;
  /** Print the output's lines as they come (indented). Default: print nothing, return it. */
  echo?: boolean;
  /** How the command is shown (default: the program and its arguments); false shows nothing. */
  display?: string | false;
  /** Do not throw on a non-zero exit. */
  allowFailure?: boolean;
}

/**
 * Runs a program without blocking this process (the emulator may be serving requests in it), shows the command,
 * and throws with its output when it fails.
 */
export function run(program: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  if (options.display !== false) showCommand(options.display ?? [program, ...args].map(quote).join(" "));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let pending = "";
    const echo = (chunk: string) => {
      if (!options.echo) return;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) console.log(`        ${dim(line.replace(/\r/g, ""))}`);
    };
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      echo(d);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      echo(d);
    });
    child.once("error", (error) => reject(new Error(`${program}: ${error.message}`)));
    child.once("close", (code) => {
      if (pending) echo("\n");
      const result = { code: code ?? 1, stdout, stderr };
      if (result.code !== 0 && !options.allowFailure) {
        const output = `${stdout}${stderr}`.trim().split("\n").slice(-15).join("\n");
        reject(new Error(`${options.display || program} exited with code ${result.code}${output ? `:\n${output}` : ""}`));
      } else {
        resolve(result);
      }
    });
    child.stdin.end(options.input ?? "");
  });
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** A plain text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(cells[0]!), widths.map((w) => "─".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** Job progress: one line redrawn in place on a terminal; in logs, a line when enough time has passed. */
export class ProgressLine {
  private lastPrinted = 0;
  private drawn = false;

  constructor(private readonly everyMs = 5000) {}

  update(text: string, force = false): void {
    if (tty) {
      process.stdout.write(`\r\x1b[2K      ${text}`);
      this.drawn = true;
      return;
    }
    const now = performance.now();
    if (force || now - this.lastPrinted >= this.everyMs) {
      this.lastPrinted = now;
      console.log(`      ${text}`);
    }
  }

  finish(text: string): void {
    if (tty && this.drawn) process.stdout.write(`\r\x1b[2K`);
    console.log(`      ${text}`);
    this.drawn = false;
  }
}

export function bar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
}
