#!/usr/bin/env node
// The tutorial's workload (examples/tutorial): find the hottest rectangle of heat-map grids.
//
// Each input is a grid of integers (a text file: a `#` comment line, "ROWS COLS", then one line of values per
// row). For every grid the workload finds the axis-aligned rectangle whose values have the largest sum (Kadane's
// algorithm over every pair of rows, O(rows² × cols)): that sum is the grid's score.
//
//   node /opt/workload/hotspot.mjs FILE...   score local files, one JSON line per file (to test the image)
//   node /opt/workload/hotspot.mjs --self-test
//   node /opt/workload/hotspot.mjs --code-cache  when building an image: V8's code cache of htcctl, for faster jobs
//   node /opt/workload/hotspot.mjs           a job of a batch, configured by its environment:
//
//     AWS_BATCH_JOB_ARRAY_INDEX  (injected) which chunk of the input set is this job's
//     CHUNK_SIZE                 (user)     grids per job
//     INDEX_KEY                  (user)     object key of the index file in the project's shared storage
//                                           (default index.txt): one grid key per line
//     SIMULATE_FAILURES          (user)     a fraction of jobs (e.g. 0.3) that fail on purpose: half of them
//                                           crash, the other half hang until the job's time limit
//
//   A job downloads the index and its grids from the project's shared storage with htcctl (-s), scores them and
//   uploads results/part-<index>.json to its task's storage, where the tutorial collects the parts.
//
// htcctl is used in-process (the image's /usr/local/bin/htcctl is a module too) rather than as three more
// processes: on a small machine every Node start costs ~50 ms of CPU, which adds up over a thousand jobs (for the
// same reason, the code cache below).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import vm from "node:vm";

const env = process.env;

/** Parses a grid file's text. */
export function parseGrid(text) {
  const lines = text.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));
  const [rows, cols] = lines[0].trim().split(/\s+/).map(Number);
  if (!(rows > 0 && cols > 0) || lines.length !== rows + 1) throw new Error(`not a grid: expected ${rows} rows of ${cols} values`);
  const values = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = lines[r + 1].trim().split(/\s+/);
    if (row.length !== cols) throw new Error(`not a grid: row ${r} has ${row.length} values, expected ${cols}`);
    for (let c = 0; c < cols; c++) values[r * cols + c] = Number(row[c]);
  }
  return { rows, cols, values };
}

/** The rectangle with the largest sum: { sum, top, bottom, left, right } (inclusive bounds). */
export function hottestRectangle({ rows, cols, values }) {
  let best = { sum: Number.NEGATIVE_INFINITY, top: 0, bottom: 0, left: 0, right: 0 };
  const columnSums = new Int32Array(cols);
  for (let top = 0; top < rows; top++) {
    columnSums.fill(0);
    for (let bottom = top; bottom < rows; bottom++) {
      const row = bottom * cols;
      for (let c = 0; c < cols; c++) columnSums[c] += values[row + c];
      // Kadane over the column sums of rows top..bottom.
      let run = 0;
      let start = 0;
      for (let c = 0; c < cols; c++) {
        if (run <= 0) {
          run = columnSums[c];
          start = c;
        } else {
          run += columnSums[c];
        }
        if (run > best.sum) best = { sum: run, top, bottom, left: start, right: c };
      }
    }
  }
  return best;
}

/** Brute force over every rectangle, for the self-test. */
function bruteForce({ rows, cols, values }) {
  let best = Number.NEGATIVE_INFINITY;
  for (let t = 0; t < rows; t++)
    for (let b = t; b < rows; b++)
      for (let l = 0; l < cols; l++)
        for (let r = l; r < cols; r++) {
          let sum = 0;
          for (let y = t; y <= b; y++) for (let x = l; x <= r; x++) sum += values[y * cols + x];
          best = Math.max(best, sum);
        }
  return best;
}

function selfTest() {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < 25; i++) {
    const rows = 1 + Math.floor(random() * 7);
    const cols = 1 + Math.floor(random() * 7);
    const values = Int32Array.from({ length: rows * cols }, () => Math.floor(random() * 21) - 10);
    const grid = { rows, cols, values };
    const fast = hottestRectangle(grid).sum;
    const slow = bruteForce(grid);
    if (fast !== slow) throw new Error(`self-test failed on grid ${i}: ${fast} != ${slow}`);
  }
  console.log("hotspot: self-test passed (25 random grids, Kadane = brute force)");
}

function score(name, text) {
  const started = performance.now();
  const grid = parseGrid(text);
  const hot = hottestRectangle(grid);
  return { grid: name, rows: grid.rows, cols: grid.cols, ...hot, ms: Math.round((performance.now() - started) * 100) / 100 };
}

const HTCCTL = "/usr/local/bin/htcctl";
const CODE_CACHE = "/opt/workload/htcctl.v8cache";
let loaded;

/**
 * htcctl as a module (null when this image has none: the command on PATH is run instead). When the image was
 * built with `hotspot.mjs --code-cache` (the tutorial's Dockerfile does), V8's code cache of the 330 KB file saves
 * compiling it again in every job; a cache that another node wrote is rejected by V8 and ignored.
 */
function loadHtcctl(writeCache = false) {
  if (loaded !== undefined) return loaded;
  if (!existsSync(HTCCTL)) {
    loaded = null;
  } else if (!writeCache && !existsSync(CODE_CACHE)) {
    loaded = createRequire(import.meta.url)(HTCCTL);
  } else {
    const source = readFileSync(HTCCTL, "utf8").replace(/^#!.*/, "");
    const script = new vm.Script(Module.wrap(source), {
      filename: HTCCTL,
      ...(writeCache ? {} : { cachedData: readFileSync(CODE_CACHE) }),
    });
    const module = { exports: {} };
    script.runInThisContext()(module.exports, createRequire(HTCCTL), module, HTCCTL, dirname(HTCCTL));
    loaded = module.exports;
    if (writeCache) writeFileSync(CODE_CACHE, script.createCachedData());
  }
  return loaded;
}

/** Runs `htcctl ARGS` (in this process when it can); throws when it fails. */
async function htcctl(args) {
  const tool = loadHtcctl();
  const code = tool ? await tool.run(args) : spawnSync("htcctl", args, { stdio: "inherit" }).status;
  if (code !== 0) throw new Error(`htcctl ${args.join(" ")} failed (exit code ${code})`);
}

function required(name, what) {
  const value = env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set (${what})`);
  return value;
}

/** A number in [0, 1) that depends only on the job's index. */
function unitHash(n) {
  let h = (n + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

async function batchJob() {
  const index = Number(required("AWS_BATCH_JOB_ARRAY_INDEX", "the HTC runtime sets it in every job of a batch"));
  const chunkSize = Number(required("CHUNK_SIZE", "a user variable: add it to the job definition's envs"));
  const indexKey = env["INDEX_KEY"] || "index.txt";
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new Error(`CHUNK_SIZE must be a positive integer, not ${JSON.stringify(env["CHUNK_SIZE"])}`);
  process.chdir(mkdtempSync(join(tmpdir(), "hotspot-")));

  await htcctl(["-s", "-q", "download", indexKey]);
  const keys = readFileSync(indexKey, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const chunk = keys.slice(index * chunkSize, (index + 1) * chunkSize);
  if (chunk.length === 0) throw new Error(`job ${index} has no grids: the index lists ${keys.length} (chunk size ${chunkSize})`);
  console.log(`hotspot: job ${index}, grids ${index * chunkSize}..${index * chunkSize + chunk.length - 1} of ${keys.length}`);

  const simulated = Number(env["SIMULATE_FAILURES"] || 0);
  if (simulated > 0) {
    const u = unitHash(index);
    if (u < simulated / 2) throw new Error(`Simulated failure in job ${index}`);
    if (u < simulated) {
      console.log(`hotspot: job ${index} hangs on purpose (SIMULATE_FAILURES=${simulated})`);
      await new Promise((resolve) => setTimeout(resolve, 3600_000));
    }
  }

  await htcctl(["-s", "-q", "download", ...chunk]);
  const results = chunk.map((key) => score(key, readFileSync(key, "utf8")));
  for (const r of results)
    console.log(`hotspot: ${r.grid}: sum ${r.sum} in rows ${r.top}-${r.bottom}, cols ${r.left}-${r.right} (${r.ms} ms)`);
  mkdirSync("results", { recursive: true });
  const part = `results/part-${String(index).padStart(5, "0")}.json`;
  writeFileSync(part, `${JSON.stringify({ job: index, chunkSize, results })}\n`);
  await htcctl(["upload", part]);
}

const args = process.argv.slice(2);
if (args[0] === "--code-cache") {
  loadHtcctl(true);
  console.log(`hotspot: wrote V8's code cache of ${HTCCTL} to ${CODE_CACHE}`);
} else if (args[0] === "--self-test") selfTest();
else if (args.length > 0) for (const file of args) console.log(JSON.stringify(score(file, readFileSync(file, "utf8"))));
else await batchJob();
