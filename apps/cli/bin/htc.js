#!/usr/bin/env node
// The published `htc` command. The Node version is checked here, in syntax every Node parses, before the bundle
// (build/htc.js, made by scripts/build.mjs) is loaded: an old Node gets one line instead of a stack trace.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`htc: Node.js 20.19 or newer is required (this is ${process.version})\n`);
  process.exit(1);
}
const { run } = await import("../build/htc.js");
await run();
