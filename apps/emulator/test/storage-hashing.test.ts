// The hashing threads of large uploads (storage/hash-pool.ts, hash-thread.ts): digests of a file hashed while it
// is written, equal to node's own; failures reported, not hung; and the pool starts its thread both from the
// TypeScript sources (this process: vitest) and from compiled JavaScript (a plain node process, no loader).
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HashPool, hashThreadUrl } from "../src/storage/hash-pool.js";
import { MultiHasher } from "../src/storage/hashing.js";

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "htc-hashing-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expected(data: Buffer) {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data) >>> 0);
  return {
    md5: createHash("md5").update(data).digest("hex"),
    sha256: createHash("sha256").update(data).digest("hex"),
    sha1: createHash("sha1").update(data).digest("hex"),
    crc32: crc.toString("hex"),
  };
}

/** Writes `data` to `path` in pieces, telling `progress` after each, as the object store does. */
async function writeInPieces(path: string, data: Buffer, piece: number, progress: (written: number) => void): Promise<void> {
  const handle = await open(path, "w");
  try {
    for (let at = 0; at < data.length; at += piece) {
      const { bytesWritten } = await handle.write(data, at, Math.min(piece, data.length - at), at);
      progress(at + bytesWritten);
    }
  } finally {
    await handle.close();
  }
}

describe("the hashing threads", () => {
  const algorithms = ["md5", "sha256", "sha1", "crc32"] as const;

  it("hash a file while it is written, with every algorithm, as node hashes it", async () => {
    const pool = new HashPool(2);
    try {
      const files = await Promise.all(
        [3 * 1024 * 1024 + 17, 1, 0].map(async (size, i) => {
          const data = randomBytes(size);
          const path = join(dir, `grow-${i}`);
          await writeFile(path, "");
          const hasher = pool.fileHasher(path, algorithms);
          await writeInPieces(path, data, 256 * 1024 + 3, (n) => hasher.progress(n));
          return { data, digests: await hasher.digest(data.length) };
        }),
      );
      for (const { data, digests } of files) expect(digests).toEqual(expected(data));
    } finally {
      await pool.close();
    }
  });

  it("split a file's algorithms between the threads and answer the oldest file first", async () => {
    const pool = new HashPool(2);
    try {
      const sizes = [6 * 1024 * 1024 + 1, 6 * 1024 * 1024 + 2, 6 * 1024 * 1024 + 3];
      const data = sizes.map((size) => randomBytes(size));
      const paths = data.map((_, i) => join(dir, `order-${i}`));
      await Promise.all(data.map((bytes, i) => writeFile(paths[i]!, bytes)));
      // Every file complete before any hashing starts, and the newest one asked for first: the threads still
      // finish the oldest first.
      const hashers = paths.map((path, i) => pool.fileHasher(path, ["md5", "sha256", "crc32"], sizes[i]));
      expect(pool.running).toBe(2);
      const finished: number[] = [];
      const pending = [2, 1, 0].map((i) =>
        hashers[i]!.digest(sizes[i]!).then((result) => {
          finished.push(i);
          return [i, result] as const;
        }),
      );
      const digests = (await Promise.all(pending)).sort(([a], [b]) => a - b).map(([, result]) => result);
      digests.forEach((result, i) => {
        const { md5, sha256, crc32: crc } = expected(data[i]!);
        expect(result).toEqual({ md5, sha256, crc32: crc });
      });
      expect(finished).toEqual([0, 1, 2]);
      // A failing share fails the file, whichever thread had it.
      await expect(pool.fileHasher(paths[0]!, ["md5", "sha1"], 10).digest(sizes[0]! + 10)).rejects.toThrow(
        /hashing failed: the file is shorter/,
      );
    } finally {
      await pool.close();
    }
  });

  it("agree with the inline hasher small bodies use", () => {
    const data = randomBytes(100_000);
    const inline = new MultiHasher(algorithms);
    inline.update(data.subarray(0, 1000));
    inline.update(data.subarray(1000));
    expect(inline.digest()).toEqual(expected(data));
    expect(new MultiHasher(["md5"]).digest()).toEqual({ md5: createHash("md5").digest("hex") });
  });

  it("report a file shorter than what was written, and a file that cannot be opened, and keep working", async () => {
    const pool = new HashPool(1);
    try {
      const path = join(dir, "short");
      await writeFile(path, randomBytes(1000));
      await expect(pool.fileHasher(path, ["md5"]).digest(2000)).rejects.toThrow(/hashing failed: the file is shorter/);
      await expect(pool.fileHasher(join(dir, "missing"), ["md5"]).digest(10)).rejects.toThrow(/hashing failed: .*ENOENT/);
      const dropped = pool.fileHasher(path, ["md5"]);
      dropped.progress(1000);
      dropped.drop();
      const data = await readFile(path);
      expect(await pool.fileHasher(path, ["md5"]).digest(data.length)).toEqual({ md5: expected(data).md5 });
    } finally {
      await pool.close();
    }
  });

  it("stop a thread that has had no file for a while, and start one again for the next", async () => {
    const pool = new HashPool(1, 100);
    try {
      const data = randomBytes(10_000);
      const path = join(dir, "idle");
      await writeFile(path, data);
      expect(pool.running).toBe(0);
      expect(await pool.fileHasher(path, ["md5"]).digest(data.length)).toEqual({ md5: expected(data).md5 });
      expect(pool.running).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(pool.running).toBe(0);
      expect(await pool.fileHasher(path, ["sha1"]).digest(data.length)).toEqual({ sha1: expected(data).sha1 });
    } finally {
      await pool.close();
    }
  });

  it("start from compiled JavaScript, where no TypeScript loader exists", async () => {
    expect(fileURLToPath(hashThreadUrl("file:///app/build/storage/hash-pool.js"))).toBe("/app/build/storage/hash-thread.js");
    expect(fileURLToPath(hashThreadUrl("file:///app/src/storage/hash-pool.ts"))).toBe("/app/src/storage/hash-thread.dev.mjs");
    // Compiled with the workspace's TypeScript, module by module, as a build emits them.
    const ts = createRequire(fileURLToPath(new URL("../../../package.json", import.meta.url)))("typescript") as typeof import("typescript");
    const build = join(dir, "build", "storage");
    await run("mkdir", ["-p", build]);
    await writeFile(join(dir, "build", "package.json"), '{ "type": "module" }');
    for (const name of ["hashing", "hash-thread", "hash-pool"]) {
      const source = await readFile(new URL(`../src/storage/${name}.ts`, import.meta.url), "utf8");
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
        fileName: `${name}.ts`,
      });
      await writeFile(join(build, `${name}.js`), outputText);
    }
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const path = join(dir, "compiled-input");
    await writeFile(path, data);
    const script = `
      import { HashPool } from ${JSON.stringify(join(build, "hash-pool.js"))};
      const pool = new HashPool(1);
      const hasher = pool.fileHasher(${JSON.stringify(path)}, ["md5", "crc32"]);
      hasher.progress(${data.length});
      console.log(JSON.stringify(await hasher.digest(${data.length})));
      await pool.close();
    `;
    await writeFile(join(dir, "build", "main.js"), script);
    const { stdout } = await run(process.execPath, [join(dir, "build", "main.js")], {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    const { md5, crc32: crc } = expected(data);
    expect(JSON.parse(stdout)).toEqual({ md5, crc32: crc });
  });
});
