#!/usr/bin/env node
// Bundles htcctl (src/bin.ts and everything it imports: the AWS SDK's S3 client) into one CommonJS file with a
// `#!/usr/bin/env node` line, runnable by any Node 20+ without node_modules:
//
//   node scripts/bundle.mjs [OUT]     default OUT: build/htcctl.cjs (images/build.sh writes the node image's copy)
//
// The file is CommonJS: name it *.cjs, or put it where no package.json says "type": "module" (as in the image's
// /usr/local/bin/htcctl).
//
// The output depends only on the sources and the pinned esbuild, so the same sources give the same bytes (the
// image build hashes them).
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? resolve(here, "../build/htcctl.cjs"));

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.error("htcctl bundle: esbuild is not installed (run `pnpm install` at the repository's root first)");
  process.exit(1);
}

// htcctl always hands the S3 client its credentials (from the HTC API), so the SDK's default credential chain
// (environment, shared files, SSO, STS, instance metadata…) is never called: a stub replaces it, which leaves a
// quarter of the SDK out of the file and makes every start ~10 ms cheaper.
const explicitCredentialsOnly = {
  name: "explicit-credentials-only",
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: "credential-provider-node",
      namespace: "htcctl-stub",
    }));
    build.onLoad({ filter: /.*/, namespace: "htcctl-stub" }, () => ({
      contents:
        "export const defaultProvider = () => async () => { throw new Error('htcctl passes its storage credentials explicitly'); };",
      loader: "js",
    }));
  },
};

const nodeVersionGuard = [
  '"use strict";',
  'if (Number(process.versions.node.split(".")[0]) < 20) {',
  '  process.stderr.write("htcctl: Node.js 20 or newer is required (this is " + process.version + ")\\n");',
  "  process.exit(1);",
  "}",
].join("\n");

mkdirSync(dirname(out), { recursive: true });
const result = await esbuild.build({
  entryPoints: [resolve(here, "../src/bin.ts")],
  outfile: out,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // The AWS SDK's ES modules (not its CommonJS builds, which the "node" condition would pick) let esbuild drop
  // what htcctl never calls: a smaller file that starts ~30 ms sooner.
  conditions: ["module"],
  mainFields: ["module", "main"],
  // The SDK's lazy `import("node:http")` becomes a require(): the file then also runs where no ES module loader
  // is at hand (vm.Script, as the tutorial's workload loads it with V8's code cache).
  supported: { "dynamic-import": false },
  minify: true,
  // Licence notices of the bundled packages stay, at the end of the file.
  legalComments: "eof",
  // Before anything else runs: an unsupported Node gets one clear line instead of a stack trace.
  banner: { js: `#!/usr/bin/env node\n${nodeVersionGuard}` },
  logLevel: "warning",
  metafile: true,
  plugins: [explicitCredentialsOnly],
});
chmodSync(out, 0o755);
// The package's types (`require("@htcemu/htcctl").run([...])`), beside the published build/htcctl.cjs.
if (out.endsWith(".cjs")) {
  writeFileSync(
    out.replace(/\.cjs$/, ".d.cts"),
    [
      "/** htcctl's version. */",
      "export declare const VERSION: string;",
      "/** Runs htcctl with these arguments (what follows `htcctl` on a command line); resolves with its exit code. */",
      "export declare function run(argv: string[], env?: Record<string, string | undefined>): Promise<number>;",
      "",
    ].join("\n"),
  );
}
const bytes = Object.values(result.metafile.outputs)[0]?.bytes ?? 0;
if (process.env.HTCCTL_BUNDLE_VERBOSE) console.error(`htcctl bundle: ${out} (${(bytes / 1024).toFixed(0)} KiB)`);
