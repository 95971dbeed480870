// The `htc-emulator` command as one bundle, build/bin/htc-emulator.js (bin/htc-emulator.js loads it), made after
// tsc compiled the library into build/. The bundle starts in half the time of the compiled modules, which load
// several hundred files. Outside it, from node_modules: the SQLite addon, dockerode (native parts, and only loaded
// when jobs run in Docker) and the contract documents (found next to @htcemu/openapi).
//
// The hashing thread is a second entry, build/bin/hash-thread.js: hash-pool.ts starts `./hash-thread.js` next to
// the module it was bundled into, so that module must land in build/bin/ too (checked below, not assumed).
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleBin, report } from "../../../scripts/build/bundle-bin.mjs";

const result = await bundleBin({
  packageDir: fileURLToPath(new URL("..", import.meta.url)),
  entry: "src/cli.ts",
  outdir: "build/bin",
  name: "htc-emulator",
  external: ["better-sqlite3", "dockerode", "@htcemu/openapi"],
  entries: { "hash-thread": "src/storage/hash-thread.ts" },
});
const outputs = Object.entries(result.metafile.outputs);
const starter = outputs.find(([, output]) => Object.keys(output.inputs).includes("src/storage/hash-pool.ts"))?.[0];
const thread = outputs.find(([, output]) => output.entryPoint === "src/storage/hash-thread.ts")?.[0];
if (!starter || !thread || dirname(starter) !== dirname(thread)) {
  throw new Error(`the hashing thread (${thread}) is not next to the code that starts it (${starter})`);
}
report("build/bin/htc-emulator.js", result);
