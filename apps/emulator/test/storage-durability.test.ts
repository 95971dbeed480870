// Durability of the storage: objects and credentials survive a restart, an upload cut off by a crash (SIGKILL)
// or by the client leaves no object and no temporary file, blobs that no row names are collected on start,
// deleting a task deletes its files, and an in-memory emulator removes its temporary storage folder on stop.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { spawnEmulator } from "@htcemu/contract/testing";
import { afterAll, describe, expect, it } from "vitest";
import { contractClient, startTestEmulator, sent } from "./helpers.js";
import { newProject, newTask, prefixOf, s3For, type Token, taskToken } from "./storage-helpers.js";

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Files under <storage>/objects (blobs) and <storage>/tmp. */
function files(storage: string): { blobs: string[]; tmp: string[] } {
  const objects = join(storage, "objects");
  const blobs = existsSync(objects) ? readdirSync(objects).flatMap((d) => readdirSync(join(objects, d)).map((f) => `${d}/${f}`)) : [];
  const tmp = existsSync(join(storage, "tmp")) ? readdirSync(join(storage, "tmp")) : [];
  return { blobs, tmp };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function missing(s3: S3Client, Bucket: string, Key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket, Key }));
    return false;
  } catch (error) {
    return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;
  }
}

describe("storage durability", () => {
  it("keeps objects and credentials across a crash, and leaves nothing of an upload cut off by it", async () => {
    const dataDir = tempDir("htc-storage-durable-");
    const storage = join(dataDir, "storage");
    let emulator = await startTestEmulator(["--data-dir", dataDir]);
    let token: Token;
    try {
      const client = contractClient(emulator, { apiKey: emulator.apiKey });
      token = await taskToken(client, await newTask(client, await newProject(client)));
      await s3For(token).send(new PutObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}kept.txt`, Body: "kept" }));
      // An upload whose body is still arriving when the process is killed. It is sent through a presigned URL
      // (no payload signature), so its bytes reach the emulator's temporary file before the crash.
      const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
      const presigned = new URL(
        await getSignedUrl(s3For(token), new PutObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}partial.bin` })),
      );
      await new Promise<void>((resolve, reject) => {
        const req = request({
          host: presigned.hostname,
          port: presigned.port,
          method: "PUT",
          path: `${presigned.pathname}${presigned.search}`,
          headers: { "content-length": String(64 * 1024 * 1024) },
        });
        req.on("error", () => {});
        req.write(Buffer.alloc(8 * 1024 * 1024, 1), (error) => (error ? reject(error) : resolve()));
      });
      await until(() => files(storage).tmp.length === 1);
      emulator.process.kill("SIGKILL");
      await emulator.stop();
    } finally {
      await emulator.stop();
    }
    // A blob no row names, as a crash between the rename and the commit would leave.
    mkdirSync(join(storage, "objects", "zz"), { recursive: true });
    writeFileSync(join(storage, "objects", "zz", "orphan"), "orphan");

    emulator = await startTestEmulator(["--data-dir", dataDir]);
    try {
      // Same credentials, new port.
      const s3 = s3For({ ...token!, endpointUrl: `${emulator.rootUrl}/s3` });
      const kept = await s3.send(new GetObjectCommand({ Bucket: token!.storageName, Key: `${prefixOf(token!)}kept.txt` }));
      expect(await kept.Body!.transformToString()).toBe("kept");
      expect(await missing(s3, token!.storageName, `${prefixOf(token!)}partial.bin`)).toBe(true);
      const after = files(storage);
      expect(after.tmp).toEqual([]);
      expect(after.blobs).toHaveLength(1);
      expect(after.blobs).not.toContain("zz/orphan");
    } finally {
      await emulator.stop();
    }
  });

  it("stores nothing of an upload the client abandons, and deletes a task's files with the task", async () => {
    const dataDir = tempDir("htc-storage-abandon-");
    const storage = join(dataDir, "storage");
    const emulator = await startTestEmulator(["--data-dir", dataDir]);
    try {
      const client = contractClient(emulator, { apiKey: emulator.apiKey });
      const ids = await newTask(client, await newProject(client));
      const token = await taskToken(client, ids);
      const s3 = s3For(token);
      const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
      const presigned = new URL(
        await getSignedUrl(s3, new PutObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}abandoned.bin` })),
      );
      const req = request({
        host: presigned.hostname,
        port: presigned.port,
        method: "PUT",
        path: `${presigned.pathname}${presigned.search}`,
        headers: { "content-length": String(32 * 1024 * 1024) },
      });
      req.on("error", () => {});
      await new Promise<void>((resolve) => req.write(Buffer.alloc(4 * 1024 * 1024, 2), () => resolve()));
      await until(() => files(storage).tmp.length === 1);
      req.destroy();
      await until(() => files(storage).tmp.length === 0);
      expect(await missing(s3, token.storageName, `${prefixOf(token)}abandoned.bin`)).toBe(true);

      for (const name of ["a", "b", "c"])
        await s3.send(new PutObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}${name}`, Body: name }));
      const other = await taskToken(client, await newTask(client, ids.projectId));
      await s3For(other).send(new PutObjectCommand({ Bucket: other.storageName, Key: `${prefixOf(other)}survivor`, Body: "s" }));
      expect(files(storage).blobs).toHaveLength(4);
      await sent(client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }));
      await until(() => files(storage).blobs.length === 1);
      const survivor = await s3For(other).send(new GetObjectCommand({ Bucket: other.storageName, Key: `${prefixOf(other)}survivor` }));
      expect(await survivor.Body!.transformToString()).toBe("s");
    } finally {
      await emulator.stop();
    }
  });

  it("removes an in-memory emulator's temporary storage folder on stop", async () => {
    const tmp = tempDir("htc-storage-tmpdir-");
    const emulator = await spawnEmulator({ args: ["--strict"], env: { TMPDIR: tmp } });
    try {
      const client = contractClient(emulator, { apiKey: emulator.apiKey });
      const token = await taskToken(client, await newTask(client, await newProject(client)));
      await s3For(token).send(new PutObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}x`, Body: "x" }));
      const folders = readdirSync(tmp).filter((d) => d.startsWith("htc-emulator-storage-"));
      expect(folders).toHaveLength(1);
      expect(files(join(tmp, folders[0]!)).blobs).toHaveLength(1);
    } finally {
      await emulator.stop();
    }
    expect(readdirSync(tmp).filter((d) => d.startsWith("htc-emulator-storage-"))).toEqual([]);
  });
});
