#!/usr/bin/env node
// The `htc-emulator` command: runs the TypeScript sources through tsx's loader (the package ships its sources).
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
