#!/usr/bin/env node
// The published `htcctl` command: the bundle in build/ (made by `pnpm build`). This file exists before any build,
// so package managers can link the command at install time. The bundle runs by itself only when it is the main
// module, so this wrapper calls its `run` export.
const { run } = require("../build/htcctl.cjs");
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`htcctl: ${error?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
