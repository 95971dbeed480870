// Does hashing large uploads in worker threads pay? `tsx bench/storage-hashing.ts [rounds] [MiB per body]`.
// The emulator's upload path without HTTP: 4 bodies at once streamed through the body plan (body.ts) into files
// (object-store.ts), hashed either by the hashing threads (the plan of a body whose length is known and large) or
// inline on the event loop (a body of unknown length), alternating between the two in one run so that a shared,
// loaded machine affects both alike. Prints throughput, CPU time and how busy the event loop was.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { planBody } from "../src/storage/body.js";
import { HashPool } from "../src/storage/hash-pool.js";
import { ObjectStore } from "../src/storage/object-store.js";

const MiB = 1024 * 1024;
const rounds = Number(process.argv[2] ?? 10);
const perBody = Number(process.argv[3] ?? 32) * MiB;
const concurrency = 4;
const blocks = Array.from({ length: 8 }, () => {
  const block = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  return block;
});

/** `size` bytes in 64 KiB chunks, as a socket delivers them. */
function body(size: number): Readable {
  let sent = 0;
  let i = 0;
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const block = blocks[i++ % blocks.length]!;
      const n = Math.min(block.length, size - sent);
      sent += n;
      this.push(Buffer.from(block.subarray(0, n)));
    },
  });
}

const dir = await mkdtemp(join(tmpdir(), "htcemu-bench-hashing-"));
const store = await ObjectStore.open(dir);
const pool = new HashPool();
const cpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

async function once(inThreads: boolean): Promise<{ rate: number; cpu: number; busy: number }> {
  const cpu = cpuSeconds();
  const loop = performance.eventLoopUtilization();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      // Without a length the plan hashes inline, whatever the size.
      const headers = inThreads ? { "content-length": String(perBody) } : {};
      const plan = planBody({ method: "PUT", rawPath: "/s3/b/k", resourcePath: "/b/k", rawQuery: "", headers }, undefined, undefined, pool);
      const blob = await store.receive(body(perBody), plan.transforms, plan.observe);
      await plan.check(blob.size);
      await store.discard(blob);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    rate: (concurrency * perBody) / MiB / seconds,
    cpu: cpuSeconds() - cpu,
    busy: performance.eventLoopUtilization(loop).utilization,
  };
}

try {
  const results = { threads: [] as Awaited<ReturnType<typeof once>>[], inline: [] as Awaited<ReturnType<typeof once>>[] };
  await once(true);
  await once(false);
  for (let round = 0; round < rounds; round++) {
    for (const inThreads of round % 2 ? [false, true] : [true, false])
      (inThreads ? results.threads : results.inline).push(await once(inThreads));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`${concurrency} concurrent bodies of ${perBody / MiB} MiB, ${rounds} rounds, medians:`);
  for (const [name, runs] of Object.entries(results)) {
    console.log(
      `  hashed ${name.padEnd(7)}: ${median(runs.map((r) => r.rate)).toFixed(0)} MiB/s, ` +
        `CPU ${median(runs.map((r) => r.cpu)).toFixed(2)} s, event loop busy ${(100 * median(runs.map((r) => r.busy))).toFixed(0)}%`,
    );
  }
} finally {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
}
