// Fails the build when the JavaScript the dashboard ships is over budget: 250 kB gzipped, all chunks together
// (what a browser downloads for the first page, and more). Prints the figure either way.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const BUDGET_BYTES = 250 * 1000;

export function shippedJs(dir = new URL("../dist/assets/", import.meta.url).pathname) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".js"));
  let raw = 0;
  let gzipped = 0;
  for (const file of files) {
    const body = readFileSync(join(dir, file));
    raw += body.byteLength;
    gzipped += gzipSync(body, { level: 9 }).byteLength;
  }
  return { files: files.length, raw, gzipped };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { files, raw, gzipped } = shippedJs();
  const line = `dashboard JavaScript: ${files} file(s), ${(raw / 1000).toFixed(1)} kB, ${(gzipped / 1000).toFixed(1)} kB gzipped (budget ${BUDGET_BYTES / 1000} kB)`;
  if (gzipped > BUDGET_BYTES) {
    console.error(`${line}: OVER BUDGET`);
    process.exit(1);
  }
  console.log(line);
}
