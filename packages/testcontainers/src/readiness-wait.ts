// Waiting for the emulator: its readiness probe (GET /_emulator/ready) polled from the tests' side, at the address
// the tests will use, so "started" means reachable from here, not only healthy inside. A container that exits
// meanwhile (a read-only data folder, a taken port…) fails the wait at once with the lines it logged, which say
// what to mount or set.
import type { WaitStrategy } from "testcontainers";

type Container = Parameters<WaitStrategy["waitUntilReady"]>[0];

export const READY_PATH = "/_emulator/ready";
const POLL_MS = 50;

export class ReadinessWait implements WaitStrategy {
  private timeoutMs = 60_000;
  private timeoutSet = false;

  constructor(private readonly url: string) {}

  withStartupTimeout(startupTimeoutMs: number): this {
    this.timeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }

  async waitUntilReady(container: Container): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let last = "no answer yet";
    for (let round = 0; ; round++) {
      try {
        const response = await fetch(this.url, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.status === 200) return;
        last = `${response.status} ${response.statusText}`;
      } catch (error) {
        last = (error as Error).message;
      }
      // Asking the engine costs more than a refused connection: every tenth round.
      if (round % 10 === 0) {
        const state = (await container.inspect()).State;
        if (!state.Running) {
          throw new Error(`the emulator's container exited with code ${state.ExitCode} before it was ready:\n${await tail(container)}`);
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`the emulator was not ready at ${this.url} within ${this.timeoutMs} ms (last: ${last}):\n${await tail(container)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

/** The container's last log lines (stdout and stderr, demultiplexed). */
async function tail(container: Container): Promise<string> {
  try {
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false, tail: 30 })) as unknown as Buffer;
    return demultiplex(raw).trim();
  } catch (error) {
    return `(its log could not be read: ${(error as Error).message})`;
  }
}

/** Docker's log stream without a TTY: frames of an 8-byte header (stream, 0, 0, 0, length) and the payload. */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length && raw[at]! <= 2 && raw[at + 1] === 0) {
    const length = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return at === 0 ? raw.toString("utf8") : Buffer.concat(parts).toString("utf8");
}
