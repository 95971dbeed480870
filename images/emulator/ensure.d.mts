// Types of ensure.mjs, for the TypeScript suites that use it.
export declare const EMULATOR_IMAGE: string;
export declare function ensureEmulatorImage(): { ok: true; image: string; seconds: number; log: string } | { ok: false; reason: string };
