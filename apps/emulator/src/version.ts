/** The emulator's version, as the admin API (`GET /info`) and snapshots state it. */
export const EMULATOR_VERSION = "0.1.0";
