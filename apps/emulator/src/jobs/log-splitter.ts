// Turns Docker's log frames into LogLines and hands them on in batches.
//
// With `timestamps: true`, every frame the logs endpoint sends is one log message prefixed by its RFC3339Nano
// time: "2024-05-01T12:34:56.123456789Z hello\n". A message is normally one whole line, but Docker cuts lines
// longer than 16 KiB into several messages (each with its own timestamp), and a process's last output may lack
// the newline. So frames are joined per stream until a newline, and a line takes the time of its first part.
import { StringDecoder } from "node:string_decoder";
import type { LogLine } from "./executor.js";

type Stream = LogLine["stream"];

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) /;

/**
 * Parses a Docker timestamp prefix: the time in ms, the exact time in ns (to compare frames), and the length of
 * the prefix with its space.
 */
export function parseDockerTimestamp(text: string): { ms: number; ns: bigint; length: number } | null {
  const m = TIMESTAMP.exec(text);
  if (!m) return null;
  const wholeSeconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(wholeSeconds)) return null;
  const fraction = (m[2] ?? "").padEnd(9, "0").slice(0, 9);
  return {
    ms: wholeSeconds + Number(fraction.slice(0, 3)),
    ns: BigInt(wholeSeconds) * 1_000_000n + BigInt(fraction),
    length: m[0].length,
  };
}

/** A whole Docker time (StartedAt, FinishedAt) in ms; null for Docker's zero time or garbage. */
export function parseDockerTime(text: string): number | null {
  const ms = Date.parse(text);
  return Number.isNaN(ms) || ms <= 0 ? null : ms;
}

/** Splits the frames of one container's two streams into lines. */
export class LogLineSplitter {
  private readonly decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  /** The unfinished line of each stream, and the time of its first part. */
  private readonly pending: Record<Stream, string> = { stdout: "", stderr: "" };
  private readonly pendingAt: Record<Stream, number | null> = { stdout: null, stderr: null };
  private lastAt = 0;
  /** The latest frame time seen, and while catching up, the time through which frames were seen already. */
  private maxNs = -1n;
  private seenThroughNs = -1n;

  /**
   * @param emit receives each complete line; `at` is Docker's time in ms (real time).
   * @param skipUntil lines stamped at or before this (Docker time, ms) are dropped: used when re-attaching.
   */
  constructor(
    private readonly emit: (line: LogLine) => void,
    private readonly skipUntil = Number.NEGATIVE_INFINITY,
  ) {}

  /** One demultiplexed frame: a timestamp prefix, then (part of) a message. */
  frame(stream: Stream, chunk: Buffer): void {
    // The prefix is ASCII and short: look at the head only, so a 16 KiB frame is not decoded twice.
    const ts = parseDockerTimestamp(chunk.subarray(0, 48).toString("latin1"));
    // Without a prefix (an engine that ignored `timestamps`), the line is as old as the previous one.
    if (ts) {
      if (ts.ns <= this.seenThroughNs) return;
      if (ts.ns > this.maxNs) this.maxNs = ts.ns;
    }
    const at = ts ? ts.ms : this.lastAt || Date.now();
    this.lastAt = at;
    // Set before decoding: the frame may end inside a UTF-8 character and decode to nothing yet.
    this.pendingAt[stream] ??= at;
    this.text(stream, this.decoders[stream].write(ts ? chunk.subarray(ts.length) : chunk), at);
  }

  /**
   * Prepares a second read of the log: frames up to the latest one seen are dropped from now on. Returns the
   * `since` value (seconds.nanoseconds) for that read, or undefined when no stamped frame was seen yet.
   */
  catchUp(): string | undefined {
    if (this.maxNs < 0n) return undefined;
    this.seenThroughNs = this.maxNs;
    const seconds = this.maxNs / 1_000_000_000n;
    const nanos = this.maxNs % 1_000_000_000n;
    return `${seconds}.${nanos.toString().padStart(9, "0")}`;
  }

  /** The streams ended: a last line without a newline still counts. */
  end(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      this.text(stream, this.decoders[stream].end(), this.lastAt || Date.now());
      const rest = this.pending[stream];
      const at = this.pendingAt[stream];
      this.pending[stream] = "";
      this.pendingAt[stream] = null;
      if (rest !== "") this.line(stream, rest, at ?? this.lastAt);
    }
  }

  private text(stream: Stream, text: string, at: number): void {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.line(stream, this.pending[stream] + text.slice(start, nl), this.pendingAt[stream] ?? at);
      this.pending[stream] = "";
      this.pendingAt[stream] = null;
      start = nl + 1;
    }
    if (start < text.length) {
      this.pending[stream] += text.slice(start);
      this.pendingAt[stream] ??= at;
    }
  }

  private line(stream: Stream, message: string, at: number): void {
    if (at <= this.skipUntil) return;
    this.emit({ at, stream, message });
  }
}

/** Collects lines and delivers them every `intervalMs` or every `maxLines`, whichever comes first. */
export class LogBatcher {
  private lines: LogLine[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deliver: (lines: LogLine[]) => void,
    private readonly maxLines = 500,
    private readonly intervalMs = 100,
  ) {}

  push(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length >= this.maxLines) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      // A pending batch must not keep the process alive on its own.
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    // The engine copies stdout and stderr separately, so frames can reach its log out of order: a batch is
    // delivered in the order the lines were written (a stable sort keeps the order of equal times).
    const lines = this.lines.sort((a, b) => a.at - b.at);
    this.lines = [];
    this.deliver(lines);
  }

  /** Drops whatever is pending (the executor is detaching: nothing may be reported any more). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lines = [];
  }
}
