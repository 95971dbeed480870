// The `htc-emulator` command as one bundle, build/bin/htc-emulator.js (bin/htc-emulator.js loads it), made after
// tsc compiled the library into build/. The bundle starts in half the time of the compiled modules, which load
// several hundred files. Outside it, from node_modules: the SQLite addon, dockerode (native parts, and only loaded
// when jobs run in Docker) and the contract documents (found next to @htcemu/openapi).
import { fileURLToPath } from "node:url";
import { bundleBin, report } from "../../../scripts/build/bundle-bin.mjs";

const result = await bundleBin({
  packageDir: fileURLToPath(new URL("..", import.meta.url)),
  entry: "src/cli.ts",
  outdir: "build/bin",
  name: "htc-emulator",
  external: ["better-sqlite3", "dockerode", "@htcemu/openapi"],
});
report("build/bin/htc-emulator.js", result);
