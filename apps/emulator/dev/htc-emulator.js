#!/usr/bin/env node
// `htc-emulator` from its TypeScript sources, for work inside this repository (`pnpm emulator`, the tests): no
// build needed. The published command is bin/htc-emulator.js, which runs the compiled build/.
import "../../../scripts/dev/sources.mjs";

await import("../src/cli.ts");
