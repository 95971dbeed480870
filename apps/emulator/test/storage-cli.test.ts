// The AWS CLI against the emulator's S3 endpoint, as the official tutorial uses it: the credentials of a storage
// token in the environment, `--endpoint-url` set to the token's `endpointUrl`, then `aws s3 cp/ls/sync/rm`.
// Debian's awscli v2 (/usr/bin/aws) is the one tested; another `aws` (v1) may come first on PATH and is tried
// too when present, through AWS_ENDPOINT_URL. CI installs awscli (scripts/docker/ensure-engine.sh).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { HtcClient } from "@htcemu/client";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractClient, startTestEmulator } from "./helpers.js";
import { advanceClock, newProject, newTask, projectToken, type Token, taskToken } from "./storage-helpers.js";

const run = promisify(execFile);
const AWS_V2 = "/usr/bin/aws";
const present = existsSync(AWS_V2);
if (!present && process.env.HTC_REQUIRE_DOCKER === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${AWS_V2} (Debian's awscli) is missing`);
if (!present) console.warn(`AWS CLI tests skipped: ${AWS_V2} is missing (apt-get install awscli)`);
const describeCli = present ? describe : describe.skip;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function envFor(token: Token, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: token.credentials.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: token.credentials.AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN: token.credentials.AWS_SESSION_TOKEN,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

async function aws(token: Token, args: string[], overrides: Record<string, string | undefined> = {}, bin = AWS_V2): Promise<Result> {
  const endpoint = bin === AWS_V2 ? ["--endpoint-url", token.endpointUrl!] : [];
  const env = envFor(token, bin === AWS_V2 ? overrides : { AWS_ENDPOINT_URL: token.endpointUrl!, ...overrides });
  try {
    const { stdout, stderr } = await run(bin, [...endpoint, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describeCli("the AWS CLI against the S3 endpoint", () => {
  let emulator: SpawnedEmulator;
  let client: HtcClient;
  let dir: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    client = contractClient(emulator, { apiKey: emulator.apiKey });
    dir = mkdtempSync(join(tmpdir(), "htc-storage-cli-"));
  });

  afterAll(async () => {
    await emulator?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("copies, lists, syncs and removes objects in the task's folder (cp, ls, sync, rm), multipart included", async () => {
    const token = await taskToken(client, await newTask(client, await newProject(client)));
    const up = join(dir, "up");
    mkdirSync(join(up, "sub"), { recursive: true });
    writeFileSync(join(up, "a.txt"), "alpha");
    writeFileSync(join(up, "sub", "b c+d.txt"), "beta");
    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 512) big[i] = (i / 512) % 256;
    writeFileSync(join(dir, "big.bin"), big);

    const quiet = ["--only-show-errors"];
    expect(await aws(token, ["s3", "cp", ...quiet, join(up, "a.txt"), `${token.storagePath}a.txt`])).toMatchObject({ code: 0 });
    // Above the CLI's 8 MB threshold: a multipart upload.
    expect(await aws(token, ["s3", "cp", ...quiet, join(dir, "big.bin"), `${token.storagePath}big.bin`])).toMatchObject({ code: 0 });
    expect(await aws(token, ["s3", "sync", ...quiet, up, `${token.storagePath}synced/`])).toMatchObject({ code: 0 });

    const listing = await aws(token, ["s3", "ls", token.storagePath]);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toMatch(/PRE synced\//);
    expect(listing.stdout).toMatch(/\s5 a\.txt/);
    expect(listing.stdout).toMatch(/\s20971520 big\.bin/);
    const recursive = await aws(token, ["s3", "ls", "--recursive", token.storagePath]);
    expect(recursive.stdout).toContain("synced/sub/b c+d.txt");

    // Downloads: multipart (ranged GETs) and a sync back into a folder.
    expect(await aws(token, ["s3", "cp", ...quiet, `${token.storagePath}big.bin`, join(dir, "down.bin")])).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, "down.bin")).equals(big)).toBe(true);
    expect(await aws(token, ["s3", "sync", ...quiet, `${token.storagePath}synced/`, join(dir, "down")])).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, "down", "sub", "b c+d.txt"), "utf8")).toBe("beta");
    expect((await aws(token, ["s3", "cp", `${token.storagePath}a.txt`, "-"])).stdout).toBe("alpha");
    // A server-side copy of a multipart object (UploadPartCopy).
    expect(await aws(token, ["s3", "cp", ...quiet, `${token.storagePath}big.bin`, `${token.storagePath}big-copy.bin`])).toMatchObject({
      code: 0,
    });
    expect(
      (
        await aws(token, [
          "s3api",
          "head-object",
          "--bucket",
          token.storageName,
          "--key",
          `${token.storagePath.slice(`s3://${token.storageName}/`.length)}big-copy.bin`,
        ])
      ).stdout,
    ).toContain('"ContentLength": 20971520');

    expect(await aws(token, ["s3", "rm", ...quiet, "--recursive", `${token.storagePath}synced/`])).toMatchObject({ code: 0 });
    const after = await aws(token, ["s3", "ls", "--recursive", token.storagePath]);
    expect(after.stdout).not.toContain("synced/");
    expect(after.stdout).toContain("big-copy.bin");
  });

  it("is refused another task's folder, the shared folder, a bad secret, a missing token and '..' keys", async () => {
    const projectId = await newProject(client);
    const ids = await newTask(client, projectId);
    const token = await taskToken(client, ids);
    const sibling = await taskToken(client, await newTask(client, projectId));
    writeFileSync(join(dir, "x.txt"), "x");

    const other = await aws(token, ["s3", "ls", sibling.storagePath]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("AccessDenied");
    const put = await aws(token, ["s3", "cp", join(dir, "x.txt"), `${sibling.storagePath}x.txt`]);
    expect(put.code).not.toBe(0);
    expect(put.stderr).toContain("AccessDenied");
    const shared = await aws(token, ["s3", "cp", join(dir, "x.txt"), `${token.projectSharedStoragePath}x.txt`]);
    expect(shared.stderr).toContain("AccessDenied");

    const badSecret = await aws(token, ["s3", "ls", token.storagePath], { AWS_SECRET_ACCESS_KEY: "x".repeat(40) });
    expect(badSecret.stderr).toContain("SignatureDoesNotMatch");
    const noToken = await aws(token, ["s3", "ls", token.storagePath], { AWS_SESSION_TOKEN: undefined });
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toContain("AccessDenied");

    const dots = await aws(token, [
      "s3api",
      "put-object",
      "--bucket",
      token.storageName,
      "--key",
      `projects/${projectId}/tasks/${ids.taskId}/../../shared/x.txt`,
      "--body",
      join(dir, "x.txt"),
    ]);
    expect(dots.code).not.toBe(0);
    expect(dots.stderr).toContain("InvalidArgument");

    // The project's shared credentials reach the shared folder, not the task.
    const projectCreds = await projectToken(client, projectId);
    expect(
      await aws(projectCreds, ["s3", "cp", "--only-show-errors", join(dir, "x.txt"), `${projectCreds.storagePath}x.txt`]),
    ).toMatchObject({ code: 0 });
    expect((await aws(projectCreds, ["s3", "ls", token.storagePath])).stderr).toContain("AccessDenied");
  });

  it("is refused with credentials that expired by the emulator's clock", async () => {
    const other = await startTestEmulator();
    try {
      const c = contractClient(other, { apiKey: other.apiKey });
      const token = await taskToken(c, await newTask(c, await newProject(c)));
      writeFileSync(join(dir, "e.txt"), "e");
      expect(await aws(token, ["s3", "cp", "--only-show-errors", join(dir, "e.txt"), `${token.storagePath}e.txt`])).toMatchObject({
        code: 0,
      });
      expect(await aws(token, ["s3", "ls", token.storagePath])).toMatchObject({ code: 0 });
      await advanceClock(other, 3601);
      const expired = await aws(token, ["s3", "ls", token.storagePath]);
      expect(expired.code).not.toBe(0);
      expect(expired.stderr).toContain("ExpiredToken");
    } finally {
      await other.stop();
    }
  });

  const v1 = ["/usr/local/bin/aws", "/root/.pyenv/shims/aws", "/bin/aws"].find((p) => existsSync(p) && p !== AWS_V2);
  (v1 ? it : it.skip)("works with another (v1) AWS CLI through AWS_ENDPOINT_URL too", async () => {
    const token = await taskToken(client, await newTask(client, await newProject(client)));
    writeFileSync(join(dir, "v1.txt"), "one");
    const version = await aws(token, ["--version"], {}, v1!);
    if (version.code !== 0 || !/aws-cli\/1\./.test(version.stdout + version.stderr)) return; // not a v1 CLI after all
    expect(await aws(token, ["s3", "cp", "--only-show-errors", join(dir, "v1.txt"), `${token.storagePath}v1.txt`], {}, v1!)).toMatchObject({
      code: 0,
    });
    expect((await aws(token, ["s3", "ls", token.storagePath], {}, v1!)).stdout).toContain("v1.txt");
    expect((await aws(token, ["s3", "cp", `${token.storagePath}v1.txt`, "-"], {}, v1!)).stdout).toBe("one");
  });
});
