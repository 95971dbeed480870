#!/usr/bin/env node
// The published `htcctl` command: the bundle in build/ (made by `pnpm build`). This file exists before any build,
// so package managers can link the command at install time.
require("../build/htcctl.cjs");
