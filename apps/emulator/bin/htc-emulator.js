#!/usr/bin/env node
// The published `htc-emulator` command. The Node version is checked here, in syntax every Node parses, before the
// bundled emulator (build/bin/htc-emulator.js) is loaded: an old Node gets one line instead of a stack trace.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`htc-emulator: Node.js 20.19 or newer is required (this is ${process.version})\n`);
  process.exit(1);
}
await import("../build/bin/htc-emulator.js");
