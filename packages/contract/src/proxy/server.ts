// The contract proxy itself: listens, hands each request to forwarding, records each finished exchange in the
// background (after the client has its answer), and keeps the report files up to date: periodically while
// something changed, and on flush and stop.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Contract, loadContract } from "../contract.js";
import { DriftRecorder, type DriftReport } from "./drift.js";
import type { Exchange } from "./exchange.js";
import { type ForwardOptions, forwardExchange } from "./forward.js";
import { ReportFiles } from "./report-files.js";

export interface ContractProxyOptions {
  /** Where requests go: an origin (`https://htc.rescale.com`) or a base URL (`…/api/v1`, see `forwardPath`). */
  target: string | URL;
  /** Port to listen on (default 0: a free one). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** The contract to check against (default: the bundled `@htcemu/openapi` document). */
  contract?: Contract;
  /** File for the JSON drift report; the readable summary goes next to it (`.txt`). Without it nothing is written. */
  report?: string;
  /** Where the summary goes (default: `report` with its extension replaced by `.txt`). */
  summary?: string;
  /** How often the report files are rewritten while running, when something changed (default 30 s; 0: only on stop). */
  reportIntervalMs?: number;
  /**
   * Send the client's `Host` header to the target instead of the target's own host. Useful with the emulator,
   * whose pagination `next` links then point back at the proxy; wrong for production (TLS, virtual hosts).
   */
  preserveHost?: boolean;
  /** Bodies larger than this are forwarded but not validated (default 64 MiB). */
  maxValidatedBodyBytes?: number;
  /** Time budget of one exchange with the target until its response headers arrive (default 5 min). */
  upstreamTimeoutMs?: number;
  /** Lines about the proxy itself (start, upstream failures, report writes). */
  log?: (line: string) => void;
}

export interface ContractProxy {
  /** `http://host:port`: use it (plus `/api/v1`) as the client's base URL. */
  readonly url: string;
  readonly port: number;
  readonly target: string;
  /** The report so far (after validating everything received until now). */
  report(): Promise<DriftReport>;
  /** Validates what is pending and rewrites the report files. */
  flush(): Promise<DriftReport>;
  /** Stops listening, waits for open exchanges and pending validation, writes the report; resolves with it. */
  stop(): Promise<DriftReport>;
}

export async function startContractProxy(options: ContractProxyOptions): Promise<ContractProxy> {
  const proxy = new ContractProxyServer(options);
  await proxy.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return proxy;
}

class ContractProxyServer implements ContractProxy {
  readonly target: string;
  private readonly forwarding: ForwardOptions;
  private readonly drift: DriftRecorder;
  private readonly files: ReportFiles | undefined;
  private readonly reportIntervalMs: number;
  private readonly log: (line: string) => void;
  private readonly server: Server;
  /** Exchanges being forwarded. */
  private readonly open = new Set<Promise<void>>();
  /** Finished exchanges waiting to be recorded. */
  private readonly pending = new Set<Promise<void>>();
  /** Something was recorded since the report files were last written. */
  private dirty = false;
  private address: AddressInfo | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<DriftReport> | undefined;

  constructor(options: ContractProxyOptions) {
    const target = new URL(String(options.target));
    if (target.protocol !== "http:" && target.protocol !== "https:")
      throw new Error(`the target must be an http(s) URL, got ${target.href}`);
    this.target = target.href;
    this.log = options.log ?? (() => {});
    this.forwarding = {
      target,
      preserveHost: options.preserveHost === true,
      maxCapturedBytes: options.maxValidatedBodyBytes ?? 64 * 1024 * 1024,
      timeoutMs: options.upstreamTimeoutMs ?? 300_000,
      log: this.log,
    };
    this.drift = new DriftRecorder(options.contract ?? loadContract(), target.href);
    this.files = options.report ? new ReportFiles(options.report, options.summary) : undefined;
    this.reportIntervalMs = options.reportIntervalMs ?? 30_000;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get url(): string {
    const { address, family, port } = this.listening();
    return `http://${family === "IPv6" ? `[${address}]` : address}:${port}`;
  }

  get port(): number {
    return this.listening().port;
  }

  async listen(port: number, host: string): Promise<void> {
    this.server.listen(port, host);
    await once(this.server, "listening");
    this.address = this.server.address() as AddressInfo;
    this.log(`contract proxy listening on ${this.url} → ${this.target}${this.files ? ` (report: ${this.files.json})` : ""}`);
    if (!this.files) return;
    if (this.reportIntervalMs > 0) {
      this.timer = setInterval(() => {
        if (!this.dirty) return;
        try {
          this.writeReport();
        } catch (error) {
          this.log(`contract proxy: could not write the report: ${(error as Error).message}`);
        }
      }, this.reportIntervalMs);
      this.timer.unref();
    }
    // Written at once, so a session that crashes still leaves a report behind.
    this.writeReport();
  }

  async report(): Promise<DriftReport> {
    await this.settle();
    return this.drift.snapshot();
  }

  async flush(): Promise<DriftReport> {
    await this.settle();
    this.writeReport();
    return this.drift.snapshot();
  }

  stop(): Promise<DriftReport> {
    this.stopping ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      await this.settle();
      this.server.closeAllConnections();
      await closed;
      this.writeReport();
      return this.drift.snapshot();
    })();
    return this.stopping;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // The exchange stays open until its recording is queued, so settle() never misses one in between.
    const exchange = forwardExchange(req, res, this.forwarding).then((finished) => this.recordLater(finished));
    track(this.open, exchange);
  }

  /** Validation runs after the client has its answer. */
  private recordLater(exchange: Exchange): void {
    this.dirty = true;
    const recorded = new Promise<void>((done) => {
      setImmediate(() => {
        try {
          this.drift.record(exchange);
        } catch (error) {
          this.log(`contract proxy: could not check ${exchange.method} ${exchange.rawUrl}: ${(error as Error).message}`);
        }
        done();
      });
    });
    track(this.pending, recorded);
  }

  /** Waits until nothing is being forwarded or recorded (new exchanges may arrive meanwhile). */
  private async settle(): Promise<void> {
    while (this.open.size > 0 || this.pending.size > 0) await Promise.allSettled([...this.open, ...this.pending]);
  }

  private writeReport(): void {
    if (!this.files) return;
    this.files.write(this.drift.snapshot());
    this.dirty = false;
  }

  private listening(): AddressInfo {
    if (!this.address) throw new Error("the contract proxy is not listening yet");
    return this.address;
  }
}

function track(set: Set<Promise<void>>, promise: Promise<void>): void {
  set.add(promise);
  void promise.finally(() => set.delete(promise));
}
