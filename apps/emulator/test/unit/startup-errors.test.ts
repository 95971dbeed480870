// Start-up failures as the one line the user reads: worded for the container image (what to mount or set with
// docker run) or for a shell (which flag), and never more than one line.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { engineUnavailableMessage } from "../../src/jobs/docker-engine.js";
import { engineCommand } from "../../src/parts.js";
import { checkDataDir, dataDirMessage, listenError, listenMessage, StartupError } from "../../src/startup-errors.js";

const image = { image: "htcemu/emulator:0.1.0", uid: 1000 };
const shell = { image: undefined, uid: 1000 };
const dir = mkdtempSync(join(tmpdir(), "htcemu-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const oneLine = (text: string) => expect(text).not.toContain("\n");

describe("the data folder", () => {
  it("read-only: mount a writable folder (image), another --data-dir (shell)", () => {
    const inImage = dataDirMessage("/data", "EROFS", image);
    expect(inImage).toBe(
      'the data folder /data is on a read-only file system: mount a writable folder there (-v "$PWD/.htc:/data", without :ro), or keep the state in memory with -e HTC_EMULATOR_IN_MEMORY=1',
    );
    expect(dataDirMessage("/srv/htc", "EROFS", shell)).toBe(
      "the data folder /srv/htc is on a read-only file system: choose another with --data-dir (HTC_EMULATOR_DATA_DIR), or keep the state in memory with --in-memory",
    );
    oneLine(inImage);
  });

  it("another user's: what to chown", () => {
    expect(dataDirMessage("/data", "EACCES", image)).toMatch(
      /is not writable by this user \(uid 1000\): make the mounted folder writable for uid 1000 \(on the host: chown 1000 \.htc\)/,
    );
  });

  it("checkDataDir creates the folder, and refuses one it cannot have", () => {
    checkDataDir(join(dir, "a", "b"), shell);
    const file = join(dir, "file");
    writeFileSync(file, "");
    let error: unknown;
    try {
      checkDataDir(join(file, "under"), shell);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).problem).toMatchObject({ kind: "data-dir", code: "ENOTDIR" });
    expect((error as Error).message).toMatch(/cannot be used \(ENOTDIR\): choose another with --data-dir/);
  });
});

describe("the port", () => {
  it("in use: another port, said for the image or the shell", () => {
    expect(listenMessage("127.0.0.1", 8787, "EADDRINUSE", image)).toBe(
      "port 8787 on 127.0.0.1 is already in use (with --network host the container shares the host's ports; another emulator?): set another with -e HTC_EMULATOR_PORT=<port>, or stop what listens there",
    );
    expect(listenMessage("127.0.0.1", 8787, "EADDRINUSE", shell)).toMatch(
      /choose another with --port <port> \(HTC_EMULATOR_PORT; 0 picks a free one\)/,
    );
  });

  it("privileged, or an address this machine does not have", () => {
    expect(listenMessage("127.0.0.1", 80, "EACCES", shell)).toMatch(/ports below 1024 need root/);
    expect(listenMessage("203.0.113.9", 8787, "EADDRNOTAVAIL", image)).toMatch(
      /cannot listen on 203\.0\.113\.9: .*set -e HTC_EMULATOR_HOST to 127\.0\.0\.1/,
    );
  });

  it("other errors pass through unchanged", () => {
    const other = Object.assign(new Error("boom"), { code: "EMFILE" });
    expect(listenError(other, "127.0.0.1", 1, shell)).toBe(other);
    expect(listenError(Object.assign(new Error("x"), { code: "EADDRINUSE" }), "127.0.0.1", 1, shell)).toBeInstanceOf(StartupError);
  });
});

describe("the Docker engine, from inside the image", () => {
  const error = (code: string, message = `connect ${code} /var/run/docker.sock`) =>
    Object.assign(new Error(message), { code, address: "/var/run/docker.sock" });

  it("no socket: mount the host's", () => {
    const text = engineUnavailableMessage(error("ENOENT"), "linux", image.image);
    expect(text).toBe(
      "No Docker engine socket in this container (/var/run/docker.sock does not exist): mount the host's with -v /var/run/docker.sock:/var/run/docker.sock, or run jobs without containers with -e HTC_EMULATOR_EXECUTOR=simulated.",
    );
    expect(engineCommand(text, undefined, image.image)).toBe(
      "docker run … -v /var/run/docker.sock:/var/run/docker.sock … htcemu/emulator:0.1.0",
    );
  });

  it("refused: root, or the socket's group; nothing answering: start the engine", () => {
    expect(engineUnavailableMessage(error("EACCES"), "linux", image.image)).toMatch(
      /refuses this container's user( \(uid \d+\))?: run the container as root \(the image's default\) or add --group-add \S+/,
    );
    const refused = engineUnavailableMessage(
      error("ECONNREFUSED", "connect ECONNREFUSED /var/run/docker.sock\nmore"),
      "linux",
      image.image,
    );
    expect(refused).toMatch(/^Nothing answers on the Docker socket mounted at \/var\/run\/docker\.sock .*start the engine on the host/);
    oneLine(refused);
  });

  it("outside the image, the advice of a workstation stays", () => {
    expect(engineUnavailableMessage(error("ENOENT"), "linux", undefined)).toMatch(/install Docker Engine/);
  });
});
