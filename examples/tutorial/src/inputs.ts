// The tutorial's input set: heat-map grids of random integers, generated from a seed (the same seed gives the
// same files), with one "hotspot" planted in one of them. The jobs search every grid for its hottest rectangle
// (the largest sum of an axis-aligned rectangle); the planted grid must come out on top, which the tutorial
// checks at the end.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface InputOptions {
  count: number;
  rows: number;
  cols: number;
  seed: number;
}

export interface Planted {
  key: string;
  top: number;
  bottom: number;
  left: number;
  right: number;
  /** Added to every value inside the rectangle. */
  boost: number;
}

export interface InputSet {
  /** The folder to run `htcctl upload` from: it holds `grids/` and the index. */
  dir: string;
  /** Object keys, in index order. */
  keys: string[];
  indexFile: string;
  bytes: number;
  planted: Planted;
}

/** mulberry32: a small, good enough PRNG with a 32-bit state. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3's finalizer: spreads neighbouring integers over the whole 32-bit range. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed of grid `i`: unrelated to its neighbours' (consecutive seeds give mulberry32 correlated streams). */
function gridSeed(seed: number, i: number): number {
  return mix32(mix32(seed) ^ mix32(i + 0x9e3779b9));
}

export function gridKey(i: number): string {
  return `grids/grid-${String(i).padStart(5, "0")}.txt`;
}

export function generateInputs(dir: string, options: InputOptions): InputSet {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "grids"), { recursive: true });
  const pick = prng(options.seed);
  const winner = Math.floor(pick() * options.count);
  const height = Math.floor(options.rows / 4);
  const width = Math.floor(options.cols / 3);
  const top = Math.floor(pick() * (options.rows - height));
  const left = Math.floor(pick() * (options.cols - width));
  const planted: Planted = { key: gridKey(winner), top, bottom: top + height - 1, left, right: left + width - 1, boost: 6 };

  const keys: string[] = [];
  let bytes = 0;
  for (let i = 0; i < options.count; i++) {
    const random = prng(gridSeed(options.seed, i));
    const lines = [`# hotspot grid ${i} (seed ${options.seed})`, `${options.rows} ${options.cols}`];
    for (let r = 0; r < options.rows; r++) {
      const row: number[] = [];
      for (let c = 0; c < options.cols; c++) {
        let value = Math.floor(random() * 19) - 9;
        if (i === winner && r >= planted.top && r <= planted.bottom && c >= planted.left && c <= planted.right) value += planted.boost;
        row.push(value);
      }
      lines.push(row.join(" "));
    }
    const text = `${lines.join("\n")}\n`;
    const key = gridKey(i);
    writeFileSync(join(dir, key), text);
    keys.push(key);
    bytes += text.length;
  }
  const indexFile = "index.txt";
  writeFileSync(join(dir, indexFile), `${keys.join("\n")}\n`);
  return { dir, keys, indexFile, bytes, planted };
}
