// For the suites that run htcemu/emulator (tests/image, @htcemu/testcontainers, examples/python, the bench):
// builds it when it is missing or out of date (`images/build.sh htcemu/emulator`, about a second when it is up to
// date), or says why it cannot be had. Without a Docker engine that is a reason to skip, unless
// HTC_REQUIRE_DOCKER=1 (CI) makes it an error.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const EMULATOR_IMAGE = "htcemu/emulator:latest";
const buildScript = fileURLToPath(new URL("../build.sh", import.meta.url));

export function ensureEmulatorImage() {
  const engine = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
  if (engine.status !== 0) {
    const reason = `no Docker engine answers (${(engine.stderr || engine.error?.message || "").trim().split("\n")[0]})`;
    if (process.env.HTC_REQUIRE_DOCKER === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${reason}`);
    return { ok: false, reason };
  }
  const started = performance.now();
  const build = spawnSync("bash", [buildScript, "htcemu/emulator"], { encoding: "utf8", timeout: 900_000 });
  if (build.status !== 0) {
    const output = `${build.stdout}${build.stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`images/build.sh htcemu/emulator failed (${build.status ?? build.signal}):\n${output}`);
  }
  return { ok: true, image: EMULATOR_IMAGE, seconds: (performance.now() - started) / 1000, log: build.stdout.trim() };
}
