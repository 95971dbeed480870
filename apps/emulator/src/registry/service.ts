// The project registries as one service: the supervised registry (a child process or a container, placement.ts
// decides), the token issuer, the passwords, and what the emulator knows about the images in it.
//
// Image status. The registry is the truth about which tags exist; SQLite keeps, per tag, the manifest digest, when
// the emulator first saw that digest under the tag (`pushed_at`, by the emulator's clock) and when it verified
// that every blob the image references is stored (`complete_at`). An image is READY once it is complete and
// `registryReadyDelaySeconds` have passed since `pushed_at`, PENDING before. The registry's notifications (a
// manifest pushed or deleted) update the rows as pushes happen; the operations that need an answer (image status,
// image list, job submission and launch) also ask the registry directly, so they never depend on a notification
// having arrived yet.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../clock.js";
import type { ImageRow, RegistryRepository } from "../db/repositories/registry.js";
import type { EngineProbe } from "../jobs/engine-probe.js";
import { RegistryClient } from "./client.js";
import { ContainerRunner } from "./container-runner.js";
import { fullRepositoryName, NAMESPACE } from "./names.js";
import { machineFacts, OFF_AS_ASKED, planRegistry, type RegistryMode, RegistryOffError, registryImage } from "./placement.js";
import { ProcessRunner } from "./process-runner.js";
import type { RegistryRunner } from "./runner.js";
import { RegistrySupervisor } from "./supervisor.js";
import { REGISTRY_ISSUER, REGISTRY_SERVICE, REGISTRY_USERNAME, RegistryCredentials, RegistryTokenIssuer } from "./token-service.js";

export type { RegistryMode } from "./placement.js";
export type ImageStatus = "READY" | "PENDING";

/** Whether the registries run, and how; or why not and the one command that turns them on. */
export type RegistryState = { on: true; runs: "process" | "container"; description: string } | { on: false; why: string; fix: string };

/** Where the registry's internal endpoints live on the emulator (outside the HTC contract and the admin API). */
export const REGISTRY_INTERNAL_PREFIX = "/_emulator/registry";

export interface RegistryServiceOptions {
  mode: RegistryMode;
  bin: string;
  /** Image for a registry in a container (default: htcemu/registry:2, else registry:2). */
  image: string | undefined;
  /** The Docker engine, asked when the registry may have to run in a container. */
  engine: EngineProbe;
  /** Preferred port (0: the one used last time with this data dir, else any free one). */
  port: number;
  /** How long a pushed image stays PENDING (seconds of the emulator's clock). */
  readyDelaySeconds: number;
  /** The emulator's data dir; undefined for an in-memory emulator (the registry then uses a temporary folder). */
  dataDir: string | undefined;
  log: (line: string) => void;
}

/** A manifest push or delete, as the registry's notifications describe it. */
interface RegistryEvent {
  action?: string;
  target?: { mediaType?: string; digest?: string; repository?: string; tag?: string };
}

const MANIFEST_MEDIA_TYPE = /manifest|image\.index/;

export class RegistryService {
  readonly credentials: RegistryCredentials;
  /** A secret only the registry knows: it authenticates the notifications it posts. */
  readonly notificationSecret = randomBytes(24).toString("base64url");
  private supervisor: RegistrySupervisor | undefined;
  private issuerValue: RegistryTokenIssuer | undefined;
  private clientValue: RegistryClient | undefined;
  private tempDir: string | undefined;
  private reconciling: Promise<void> = Promise.resolve();
  private readonly verifying = new Map<string, Promise<void>>();
  private readonly pullPasswords = new Map<string, { password: string; expiresAt: number }>();
  private stateValue: RegistryState = { on: false, why: "the registry has not been started", fix: "" };

  constructor(
    private readonly repo: RegistryRepository,
    private readonly clock: Clock,
    private readonly options: RegistryServiceOptions,
  ) {
    this.credentials = new RegistryCredentials(repo, clock);
  }

  /** True once the registry runs (it may be restarting after a crash). */
  get enabled(): boolean {
    return this.supervisor !== undefined;
  }

  /** `127.0.0.1:<port>` of the registry, when it runs. */
  get host(): string | undefined {
    return this.supervisor?.host;
  }

  /** The supervised registry (tests and diagnostics). */
  get process(): RegistrySupervisor | undefined {
    return this.supervisor;
  }

  /** Whether the registries run and how, or why not (for start-up banners). */
  get state(): RegistryState {
    return this.stateValue;
  }

  get issuer(): RegistryTokenIssuer {
    if (!this.issuerValue) throw new Error("the registry is not running");
    return this.issuerValue;
  }

  get client(): RegistryClient {
    if (!this.clientValue) throw new Error("the registry is not running");
    return this.clientValue;
  }

  /**
   * Starts the registry unless the mode says otherwise: Debian's binary as a child process, or a container on the
   * local engine (placement.ts). `emulatorOrigin` is how the registry and Docker reach the emulator (for the token
   * realm and the notifications), on loopback. With mode `auto` a registry that cannot run is logged and stays off
   * (`state` says why and what turns it on); with `on` it is an error.
   */
  async start(emulatorOrigin: string): Promise<void> {
    const { mode, log } = this.options;
    if (mode === "off") {
      this.stateValue = { on: false, ...OFF_AS_ASKED };
      return;
    }
    const started = performance.now();
    try {
      const runner = await this.chooseRunner();
      if (!this.options.dataDir) this.tempDir = mkdtempSync(join(tmpdir(), "htc-emulator-registry-"));
      const dir = this.options.dataDir ? join(this.options.dataDir, "registry") : this.tempDir!;
      const issuer = await RegistryTokenIssuer.loadOrCreate(this.repo, this.clock.now());
      const supervisor = new RegistrySupervisor({
        runner,
        dir,
        port: this.options.port || this.repo.lastPort() || 0,
        realm: `${emulatorOrigin}${REGISTRY_INTERNAL_PREFIX}/token`,
        service: REGISTRY_SERVICE,
        issuer: REGISTRY_ISSUER,
        certificatePem: issuer.certificatePem,
        notifications: { url: `${emulatorOrigin}${REGISTRY_INTERNAL_PREFIX}/events`, authorization: `Bearer ${this.notificationSecret}` },
        log,
      });
      this.supervisor = supervisor;
      try {
        await supervisor.start();
      } catch (error) {
        this.supervisor = undefined;
        await supervisor.stop().catch(() => {});
        throw error;
      }
      this.issuerValue = issuer;
      this.clientValue = new RegistryClient(issuer, async () => {
        await supervisor.ready();
        return supervisor.url;
      });
      if (this.options.dataDir) this.repo.setLastPort(supervisor.port);
      this.stateValue = { on: true, runs: runner.kind, description: runner.description };
      log(
        `registry listening on ${supervisor.host} (${runner.description}, data in ${dir}), ready in ${Math.round(performance.now() - started)} ms`,
      );
      // Tags moved or deleted while the emulator was down: catch up in the background.
      this.reconciling = this.reconcile();
    } catch (error) {
      this.removeTempDir();
      const off = error instanceof RegistryOffError ? error : undefined;
      this.stateValue = {
        on: false,
        why: off?.why ?? (error as Error).message.split("\n")[0]!,
        fix: off?.fix ?? 'fix what the log says ("the project registries are off: …"), then restart',
      };
      if (mode === "on") throw error;
      log(`the project registries are off: ${(error as Error).message}`);
    }
  }

  /** The runner placement.ts picks for this machine; throws RegistryOffError when none can run. */
  private async chooseRunner(): Promise<RegistryRunner> {
    const { mode, bin, log, engine } = this.options;
    const binExists = existsSync(bin);
    // The engine is asked when it decides anything: without the binary, or when it is asked anyway (the Docker
    // executor), to learn whether it runs in a VM.
    const answer = !binExists || engine.started ? await engine.get() : undefined;
    const facts = { ...machineFacts(), engine: answer?.check };
    const plan = planRegistry({ mode, bin, binExists, ...facts });
    if (plan.run === "off") throw new RegistryOffError(plan.why, plan.fix);
    if (plan.run === "process") return new ProcessRunner(plan.bin);
    const image = await registryImage(answer!.docker, this.options.image, facts, log);
    log(`registry: running it as a container of ${image}: ${plan.because}`);
    return new ContainerRunner(answer!.docker, image, plan.vm, log);
  }

  async stop(): Promise<void> {
    await this.supervisor?.stop();
    await Promise.allSettled([this.reconciling, ...this.verifying.values()]);
    this.removeTempDir();
  }

  private removeTempDir(): void {
    if (!this.tempDir) return;
    rmSync(this.tempDir, { recursive: true, force: true });
    this.tempDir = undefined;
  }

  /** Credentials the Docker executor pulls a project's images with (a password of its own, renewed as needed). */
  pullAuth(projectId: string): { username: string; password: string; serveraddress: string } {
    const now = this.clock.now();
    let entry = this.pullPasswords.get(projectId);
    if (!entry || entry.expiresAt - now < 3600 * 1000) {
      entry = this.credentials.issue(projectId, "htc-emulator");
      this.pullPasswords.set(projectId, entry);
    }
    return { username: REGISTRY_USERNAME, password: entry.password, serveraddress: this.host ?? "" };
  }

  /** The emulator's log. */
  log(line: string): void {
    this.options.log(line);
  }

  repositoryExists(projectId: string, repo: string): boolean {
    return this.repo.repository(projectId, repo) !== undefined;
  }

  statusOf(row: ImageRow): ImageStatus {
    const ready = row.complete_at !== null && this.clock.now() >= row.pushed_at + this.options.readyDelaySeconds * 1000;
    return ready ? "READY" : "PENDING";
  }

  /**
   * The digest `repo:tag` of the project points to in the registry, recorded (a new digest starts a new PENDING
   * period); undefined when the registry has no such image. Throws RegistryUnavailableError when it cannot tell.
   */
  async currentDigest(projectId: string, repo: string, tag: string): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    const digest = await this.client.manifestDigest(fullRepositoryName(projectId, repo), tag);
    if (!digest) {
      this.repo.deleteImage(projectId, repo, tag);
      return undefined;
    }
    this.repo.recordImage({ project_id: projectId, repository: repo, tag, digest, pushed_at: this.clock.now() });
    return digest;
  }

  /** READY or PENDING, or undefined when the project's registry has no such image. */
  async imageStatus(projectId: string, repo: string, tag: string): Promise<ImageStatus | undefined> {
    const digest = await this.currentDigest(projectId, repo, tag);
    if (!digest) return undefined;
    let row = this.repo.image(projectId, repo, tag);
    if (row && row.complete_at === null) {
      await this.verify(projectId, repo, digest);
      row = this.repo.image(projectId, repo, tag);
    }
    return row ? this.statusOf(row) : undefined;
  }

  /** Every image of the project's repositories as `repo:tag`, sorted. */
  async listImages(projectId: string): Promise<string[]> {
    if (!this.enabled) return [];
    const repositories = this.repo.repositories(projectId);
    const lists = await Promise.all(repositories.map((repo) => this.syncRepository(projectId, repo)));
    return lists.flat().sort();
  }

  /** Brings the rows of one repository in line with its tags; returns `repo:tag` for each tag. */
  private async syncRepository(projectId: string, repo: string): Promise<string[]> {
    const name = fullRepositoryName(projectId, repo);
    const tags = await this.client.tags(name);
    const known = new Map(this.repo.images(projectId, repo).map((row) => [row.tag, row]));
    for (const [tag] of known) if (!tags.includes(tag)) this.repo.deleteImage(projectId, repo, tag);
    // Tags the notifications have not told about (yet): learn their digests, so their PENDING period starts now.
    await Promise.all(
      tags
        .filter((tag) => !known.has(tag))
        .map(async (tag) => {
          const digest = await this.currentDigest(projectId, repo, tag);
          if (digest) void this.verify(projectId, repo, digest);
        }),
    );
    return tags.map((tag) => `${repo}:${tag}`);
  }

  /** Checks that every blob of the image is stored and marks it complete; one check per image at a time. */
  private verify(projectId: string, repo: string, digest: string): Promise<void> {
    const key = `${projectId}/${repo}@${digest}`;
    let pending = this.verifying.get(key);
    if (!pending) {
      pending = (async () => {
        if (await this.client.isComplete(fullRepositoryName(projectId, repo), digest)) {
          this.repo.markComplete(projectId, repo, digest, this.clock.now());
        }
      })()
        .catch((error: unknown) => this.options.log(`registry: could not verify ${repo}@${digest}: ${(error as Error).message}`))
        .finally(() => this.verifying.delete(key));
      this.verifying.set(key, pending);
    }
    return pending;
  }

  /** Applies the registry's notifications (pushes and deletes of manifests). */
  handleEvents(events: RegistryEvent[]): void {
    for (const event of events) {
      const target = event.target;
      const parsed = target?.repository ? this.splitRepository(target.repository) : undefined;
      if (!target || !parsed) continue;
      const { projectId, repo } = parsed;
      if (event.action === "push" && target.tag && target.digest && MANIFEST_MEDIA_TYPE.test(target.mediaType ?? "")) {
        this.repo.recordImage({
          project_id: projectId,
          repository: repo,
          tag: target.tag,
          digest: target.digest,
          pushed_at: this.clock.now(),
        });
        void this.verify(projectId, repo, target.digest);
      } else if (event.action === "delete") {
        if (target.tag) this.repo.deleteImage(projectId, repo, target.tag);
        else if (target.digest) this.repo.deleteDigest(projectId, repo, target.digest);
        else this.repo.deleteRepositoryImages(projectId, repo);
      }
    }
  }

  /** `rescale/<projectId>/<repo>` → its parts, when that repository was created in that project. */
  private splitRepository(name: string): { projectId: string; repo: string } | undefined {
    const parts = name.split("/");
    if (parts.length < 3 || parts[0] !== NAMESPACE) return undefined;
    const projectId = parts[1]!;
    const repo = parts.slice(2).join("/");
    return this.repo.repository(projectId, repo) ? { projectId, repo } : undefined;
  }

  /** After a start: re-reads the digest of every known tag (pushes and deletes missed while stopped). */
  private async reconcile(): Promise<void> {
    for (const row of this.repo.allImages()) {
      try {
        const digest = await this.currentDigest(row.project_id, row.repository, row.tag);
        const now = digest ? this.repo.image(row.project_id, row.repository, row.tag) : undefined;
        if (digest && now?.complete_at === null) await this.verify(row.project_id, row.repository, digest);
      } catch (error) {
        this.options.log(`registry: could not reconcile ${row.repository}:${row.tag}: ${(error as Error).message}`);
        return;
      }
    }
  }
}
