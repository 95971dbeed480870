// The boundary between the scheduler (which owns job state in SQLite) and whatever runs jobs: real containers
// through a Docker engine, or a simulation. Executors never touch the database; they report what happened
// through ExecutorEvents, and the scheduler records it.

/** Everything needed to run one attempt of one job. */
export interface JobLaunch {
  /** The scheduler's key of the job (stable across attempts). */
  seq: number;
  /** The public job id, `<parentJobId>:<index>`. */
  jobId: string;
  parentJobId: string;
  /** The job's index in its batch (`AWS_BATCH_JOB_ARRAY_INDEX`). */
  index: number;
  /** 1 for the first attempt. */
  attempt: number;
  projectId: string;
  taskId: string;
  workspaceId: string;
  /** The image as the user named it (`repo:tag`). */
  imageName: string;
  /** What the engine should run: a local image reference, or a registry reference to pull. */
  image: string;
  /** Credentials for pulling `image` from a registry, if it needs any. */
  imageAuth?: { username: string; password: string; serveraddress: string };
  /** argv; empty means the image's own entrypoint/command. */
  commands: string[];
  /** The full environment: the user's `envs` plus everything the runtime injects. */
  env: Record<string, string>;
  workingDir: string | null;
  vcpus: number;
  memoryMiB: number;
  execTimeoutSeconds: number;
  region: string;
}

export type JobOutcome =
  /** The main process exited on its own; `oomKilled` when the kernel killed it for memory. */
  | { kind: "exited"; exitCode: number; oomKilled: boolean }
  /** Killed because `execTimeoutSeconds` passed (by the emulator's clock). */
  | { kind: "timeout"; exitCode: number | null }
  /** Stopped because the user cancelled it (`cancel()` was called). */
  | { kind: "cancelled"; exitCode: number | null }
  /** Never ran: the image could not be found or pulled, or the container could not be created/started. */
  | { kind: "start-failed"; reason: string }
  /** The container disappeared under the executor (removed or killed from outside, lost after a restart). */
  | { kind: "vanished"; reason: string };

export interface LogLine {
  /** Milliseconds since the epoch, as the runtime stamped the line. */
  at: number;
  stream: "stdout" | "stderr";
  message: string;
}

export interface ExecutorEvents {
  /** The job's process is running. `instanceId` names what runs it (a container id for Docker). */
  running(seq: number, info: { instanceId: string; at: number }): void;
  /** Output lines, in order; may be called many times while the job runs and once more after it ends. */
  log(seq: number, lines: LogLine[]): void;
  /** The attempt is over; called exactly once per started attempt, after its last `log` call. */
  finished(seq: number, outcome: JobOutcome, at: number): void;
}

export interface Executor {
  readonly name: "docker" | "simulated";
  /** How many vCPUs of jobs may run at the same time. */
  readonly capacityVcpus: number;
  /** Starts an attempt in the background; everything that happens is reported through the events. */
  start(job: JobLaunch): void;
  /** Stops a started attempt; `finished(seq, {kind: "cancelled"})` follows. Unknown seqs are ignored. */
  cancel(seq: number): void;
  /**
   * After a restart: `jobs` are the attempts the database says are starting or running. The executor re-attaches
   * to those still alive (their events continue as if nothing happened), reports the outcome of those that ended
   * meanwhile, and reports `vanished` for those it cannot find. Resolves once each job is attached or reported.
   * `lastLogAt` tells when the last stored output line of a job was written, so output is resumed after it
   * (nothing lost, nothing repeated).
   */
  recover(jobs: JobLaunch[], options?: { lastLogAt?(seq: number): number | undefined }): Promise<void>;
  /**
   * Stops the executor. `detach` leaves running containers alone so that the next start re-attaches to them
   * (what a restart of the command-line emulator wants); `stop` kills and removes them (what `stop()` of an
   * embedded emulator promises). No event is reported after close() resolves.
   */
  close(mode: "detach" | "stop"): Promise<void>;
}
