/** This package's version: the default image is `htcemu/emulator:<it>` (moved in lockstep by `pnpm version:set`). */
export const TESTCONTAINERS_VERSION = "0.1.0";
