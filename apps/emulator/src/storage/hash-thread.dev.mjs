// Starts hash-thread.ts in a worker when the emulator runs from its TypeScript sources (tsx, vitest). Node 20 loads
// no TypeScript in a worker and ignores loader flags there, so this entry registers tsx's loader first. Compiled
// builds start hash-thread.js directly (hash-pool.ts).
import { register } from "tsx/esm/api";

register();
await import("./hash-thread.ts");
