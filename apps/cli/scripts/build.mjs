// `pnpm build` of @htcemu/cli: the `htc` command as one bundle, build/htc.js (bin/htc.js loads it).
// The package's `dependencies` stay outside the bundle, loaded from node_modules when a command needs them (the
// emulator, the contract proxy, the S3 SDK, the progress bar); everything else (devDependencies: the client,
// commander, the table printer) is bundled.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundleBin, report } from "../../../scripts/build/bundle-bin.mjs";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const result = await bundleBin({
  packageDir,
  entry: "src/index.ts",
  outdir: "build",
  name: "htc",
  external: Object.keys(manifest.dependencies ?? {}),
});
report("build/htc.js", result);
