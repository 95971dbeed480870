// How one registry (distribution 2.x) is run: as a child process of Debian's docker-registry binary
// (process-runner.ts), or as a container on the local Docker engine (container-runner.ts). The supervisor writes
// the same configuration for both, in the terms the runner gives (where the registry sees its folder, what it
// listens on, how it reaches the emulator), and restarts whatever the runner launched when it dies.

/** One running registry, as launched. */
export interface RegistryInstance {
  /** The process id (process runner). */
  readonly pid?: number;
  /** The container id (container runner). */
  readonly containerId?: string;
  /** How it ended ("code 1", "SIGKILL", …), once it has; undefined while it runs. */
  readonly ended: string | undefined;
  /** Resolves with `ended` once the registry is gone. */
  readonly exited: Promise<string>;
  /** Asks it to stop, then forces it after 5 s; resolves once it is gone. */
  stop(): Promise<void>;
  /** Ends it at once (a start that failed); does not wait. */
  kill(): void;
}

export interface RegistryRunner {
  readonly kind: "process" | "container";
  /** For the log and the banner: the binary, or the image and how its port is reached. */
  readonly description: string;
  /** The registry's folder (config.yml, token-issuer.pem, storage/) as the registry sees it. */
  dirInside(hostDir: string): string;
  /** The `http.addr` the registry listens on, in its own network namespace, for the port Docker uses. */
  listenAddress(port: number): string;
  /** `url` of the emulator (on 127.0.0.1) as the registry and the Docker engine reach it. */
  emulatorUrl(url: string): string;
  /** Runs once before the first launch: clean-up of what killed emulators left, checks that fail early. */
  prepare(hostDir: string): Promise<void>;
  /** Starts one registry serving `<dir>/config.yml`; `output` receives what it prints. */
  launch(hostDir: string, port: number, output: (text: string) => void): Promise<RegistryInstance>;
}
