// The registry as a child process of Debian's docker-registry binary, on the host's loopback.
//
// The child is started through `setpriv --pdeathsig SIGTERM` where util-linux has it, so that a registry never
// outlives an emulator that was killed without a chance to stop it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RegistryInstance, RegistryRunner } from "./runner.js";

const SETPRIV = "/usr/bin/setpriv";

export class ProcessRunner implements RegistryRunner {
  readonly kind = "process";

  constructor(private readonly bin: string) {}

  get description(): string {
    return this.bin;
  }

  dirInside(hostDir: string): string {
    return hostDir;
  }

  listenAddress(port: number): string {
    return `127.0.0.1:${port}`;
  }

  emulatorUrl(url: string): string {
    return url;
  }

  async prepare(): Promise<void> {
    if (!existsSync(this.bin)) {
      throw new Error(
        `the registry binary ${this.bin} does not exist: install Debian's docker-registry package ` +
          "(apt-get install docker-registry), or point --registry-bin at a distribution 2.x `registry` binary",
      );
    }
  }

  async launch(hostDir: string, _port: number, output: (text: string) => void): Promise<RegistryInstance> {
    const args = ["serve", join(hostDir, "config.yml")];
    // Variables named REGISTRY_* override the configuration file: keep the environment's out of it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("REGISTRY_")));
    const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "SIGTERM", "--", this.bin, ...args]] : [this.bin, args];
    const child = spawn(command, argv, { cwd: hostDir, env, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => output(chunk.toString("utf8"));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    let ended: string | undefined;
    const exited = new Promise<string>((resolve) => {
      child.once("error", (error) => {
        ended ??= `could not be started: ${error.message}`;
        resolve(ended);
      });
      child.once("exit", (code, signal) => {
        ended ??= signal ?? `code ${code}`;
        resolve(ended);
      });
    });
    const alive = () => child.exitCode === null && child.signalCode === null && ended === undefined;
    return {
      pid: child.pid,
      get ended() {
        return ended;
      },
      exited,
      async stop() {
        if (!alive()) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      },
      kill() {
        if (alive()) child.kill("SIGKILL");
      },
    };
  }
}
