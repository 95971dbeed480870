#!/usr/bin/env node
// `htc` from its TypeScript sources, for work inside this repository (`pnpm htc`, the tests): no build needed.
// The published command is bin/htc.js, which runs the bundle in build/.
import "../../../scripts/dev/sources.mjs";

const { run } = await import("../src/index.ts");
await run();
