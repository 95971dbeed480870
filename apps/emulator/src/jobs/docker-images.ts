// Makes sure a job's image is in the engine before its container is created: a local image is used as is; a
// missing one is pulled only when it names a registry (or comes with credentials), since the emulator works
// offline and must not reach out to Docker Hub on its own.
import type Dockerode from "dockerode";
import type { JobLaunch } from "./executor.js";

type ImageAuth = NonNullable<JobLaunch["imageAuth"]>;

/** The image could not be had; `message` is the job's start-failed reason. */
export class ImageUnavailableError extends Error {
  override readonly name = "ImageUnavailableError";
}

/** True when the reference starts with a registry host: `127.0.0.1:5000/x`, `registry.example/x`, `localhost/x`. */
export function hasRegistryHost(ref: string): boolean {
  const slash = ref.indexOf("/");
  if (slash === -1) return false;
  const first = ref.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost";
}

/** The engine's own words for a failed request ("(HTTP code 404) no such image - ..." → "no such image ..."). */
export function dockerMessage(error: unknown): string {
  const e = error as { json?: { message?: unknown } | null; reason?: string; message?: string };
  if (e?.json && typeof e.json.message === "string") return e.json.message;
  return e?.message ?? String(error);
}

export function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" ? code : undefined;
}

export class ImageResolver {
  /** Image reference → until when (real time) it is known to be present. */
  private readonly present = new Map<string, number>();
  /** One check or pull per reference at a time, shared by every job that needs it. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly docker: Dockerode,
    private readonly options: { cacheMs?: number; signal?: AbortSignal; log?: (line: string) => void } = {},
  ) {}

  /** Resolves once `ref` is in the engine; rejects with ImageUnavailableError otherwise. */
  ensure(ref: string, auth?: ImageAuth): Promise<void> {
    const until = this.present.get(ref);
    // Real time on purpose: the cache is about the engine, not about the emulator's (possibly fast) clock.
    if (until !== undefined && until > Date.now()) return Promise.resolve();
    let pending = this.inFlight.get(ref);
    if (!pending) {
      pending = this.resolve(ref, auth).finally(() => this.inFlight.delete(ref));
      this.inFlight.set(ref, pending);
    }
    return pending;
  }

  /** Forgets what is cached (e.g. after an image was removed on purpose). */
  forget(ref?: string): void {
    if (ref === undefined) this.present.clear();
    else this.present.delete(ref);
  }

  private async resolve(ref: string, auth?: ImageAuth): Promise<void> {
    if (await this.isLocal(ref)) return this.remember(ref);
    if (!auth && !hasRegistryHost(ref)) {
      throw new ImageUnavailableError(
        `CannotPullContainerError: image "${ref}" is not in the local Docker engine, and its reference names no ` +
          `registry to pull it from (build or load it locally, or push it to the emulator's registry)`,
      );
    }
    this.options.log?.(`pulling image ${ref}`);
    try {
      await this.pull(ref, auth);
    } catch (error) {
      throw new ImageUnavailableError(`CannotPullContainerError: pulling image "${ref}" failed: ${dockerMessage(error)}`);
    }
    if (!(await this.isLocal(ref))) {
      throw new ImageUnavailableError(`CannotPullContainerError: image "${ref}" is still missing after the pull`);
    }
    this.remember(ref);
  }

  private remember(ref: string): void {
    this.present.set(ref, Date.now() + (this.options.cacheMs ?? 10_000));
  }

  private async isLocal(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw new ImageUnavailableError(`CannotPullContainerError: could not inspect image "${ref}": ${dockerMessage(error)}`);
    }
  }

  private pull(ref: string, auth?: ImageAuth): Promise<void> {
    return new Promise((resolve, reject) => {
      // The credentials travel in the X-Registry-Auth header (the 4th argument), never in the query string.
      const opts = this.options.signal ? { abortSignal: this.options.signal } : {};
      this.docker.pull(
        ref,
        opts,
        (error, stream) => {
          if (error || !stream) return reject(error ?? new Error("no progress stream"));
          this.docker.modem.followProgress(
            stream,
            (err: Error | null, events: { error?: string; errorDetail?: { message?: string } }[]) => {
              if (err) return reject(err);
              // A failed pull still ends its stream normally; the failure is an event in it.
              const failed = events.find((e) => e.error || e.errorDetail);
              if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
              resolve();
            },
          );
        },
        auth,
      );
    });
  }
}
