// The executable `htcctl …`, bundled by scripts/bundle.mjs into one CommonJS file for the job images. The same
// file is a module too: `require("/usr/local/bin/htcctl").run(["upload", "out.dat"])` does what the command does
// without starting another Node process (a job that moves files several times saves ~0.1 s of CPU per call).
import { run } from "./main.js";

export { run, VERSION } from "./main.js";

if (typeof require !== "undefined" && typeof module !== "undefined" && require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`htcctl: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
