// What a container's user gets wrong: no engine socket mounted, an engine that refuses, a read-only /data, a port
// that is taken. Each ends with one line in the container's log that says what to mount or set, and a non-zero
// exit; with `--executor auto` (the default) a missing engine means simulated jobs instead, said in one line.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { cleanUp, exitCode, freePort, health, ready, runEmulator, SOCKET, tempFolder, until } from "./container.js";

const unavailable = inject("imageUnavailable");
afterAll(cleanUp);

/** The emulator's last log line: the one that explains; it must stand alone. */
function lastLine(logs: string): string {
  const lines = logs.trimEnd().split("\n");
  return lines.at(-1)!;
}

describe.skipIf(unavailable)("bad input", () => {
  it("no socket mounted, --executor auto: one line says what to mount, and jobs are simulated", async () => {
    const emulator = await runEmulator({ socket: false, env: { HTC_EMULATOR_IN_MEMORY: "1" } });
    await ready(emulator);
    const logs = await emulator.logs();
    const line = logs.split("\n").find((l) => l.includes("jobs are simulated"));
    expect(line).toMatch(
      /No Docker engine socket in this container .*mount the host's with -v \/var\/run\/docker\.sock:\/var\/run\/docker\.sock/,
    );
    expect(logs).toMatch(/executor\s+simulated/);
    await until("healthy", async () => ((await health(emulator.id)) === "healthy" ? true : undefined), 20_000, 100);
  });

  it("no socket mounted, --executor docker: that line, and exit 1", async () => {
    const emulator = await runEmulator({ socket: false, env: { HTC_EMULATOR_IN_MEMORY: "1", HTC_EMULATOR_EXECUTOR: "docker" } });
    expect(await exitCode(emulator.id)).toBe(1);
    expect(lastLine(await emulator.logs())).toMatch(
      /^htc-emulator: No Docker engine socket in this container \(\/var\/run\/docker\.sock does not exist\): mount the host's with -v \/var\/run\/docker\.sock:\/var\/run\/docker\.sock, or run jobs without containers with -e HTC_EMULATOR_EXECUTOR=simulated\.$/,
    );
  });

  it("an engine that refuses this user: run as root or --group-add the socket's group, and exit 1", async () => {
    const gid = statSync(SOCKET).gid;
    const emulator = await runEmulator({ user: "65534:65534", env: { HTC_EMULATOR_IN_MEMORY: "1", HTC_EMULATOR_EXECUTOR: "docker" } });
    expect(await exitCode(emulator.id)).toBe(1);
    expect(lastLine(await emulator.logs())).toMatch(
      new RegExp(
        `^htc-emulator: The Docker socket mounted at /var/run/docker\\.sock refuses this container's user \\(uid 65534\\): run the container as root \\(the image's default\\) or add --group-add ${gid}, or run jobs without containers`,
      ),
    );
  });

  it("a socket nothing answers on: start the engine or mount the right socket, and exit 1", async () => {
    // A socket file that was bound but never listened on: connecting is refused, as when the engine is down.
    const dead = join(tempFolder("dead-socket"), "docker.sock");
    execFileSync("python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", dead]);
    const emulator = await runEmulator({ socket: dead, env: { HTC_EMULATOR_IN_MEMORY: "1", HTC_EMULATOR_EXECUTOR: "docker" } });
    expect(await exitCode(emulator.id)).toBe(1);
    expect(lastLine(await emulator.logs())).toMatch(
      /^htc-emulator: Nothing answers on the Docker socket mounted at \/var\/run\/docker\.sock \(.*ECONNREFUSED.*\): start the engine on the host, or mount the socket of the engine that runs/,
    );
  });

  it("a read-only /data: mount a writable folder, and exit 1", async () => {
    const emulator = await runEmulator({ data: tempFolder("read-only"), readOnly: true, env: { HTC_EMULATOR_EXECUTOR: "simulated" } });
    expect(await exitCode(emulator.id)).toBe(1);
    expect(lastLine(await emulator.logs())).toBe(
      'htc-emulator: the data folder /data is on a read-only file system: mount a writable folder there (-v "$PWD/.htc:/data", without :ro), or keep the state in memory with -e HTC_EMULATOR_IN_MEMORY=1',
    );
  });

  it("a /data this user may not write: what to chown, and exit 1", async () => {
    const emulator = await runEmulator({ data: tempFolder("not-mine"), user: "65534:65534", env: { HTC_EMULATOR_EXECUTOR: "simulated" } });
    expect(await exitCode(emulator.id)).toBe(1);
    expect(lastLine(await emulator.logs())).toMatch(
      /^htc-emulator: the data folder \/data is not writable by this user \(uid 65534\): make the mounted folder writable for uid 65534 \(on the host: chown 65534 \.htc\)/,
    );
  });

  it("a port in use: set another, and exit 1", async () => {
    const port = await freePort();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      const emulator = await runEmulator({ port, socket: false, env: { HTC_EMULATOR_IN_MEMORY: "1", HTC_EMULATOR_EXECUTOR: "simulated" } });
      expect(await exitCode(emulator.id)).toBe(1);
      expect(lastLine(await emulator.logs())).toBe(
        `htc-emulator: port ${port} on 127.0.0.1 is already in use (with --network host the container shares the host's ports; another emulator?): set another with -e HTC_EMULATOR_PORT=<port>, or stop what listens there`,
      );
    } finally {
      taken.close();
    }
  });
});
