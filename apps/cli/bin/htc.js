#!/usr/bin/env node
// The `htc` command: runs the TypeScript sources through tsx's loader (the package ships its sources).
import { register } from "tsx/esm/api";

register();
const { run } = await import("../src/index.ts");
await run();
