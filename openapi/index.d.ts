/** Absolute path of the bundled HTC contract (`dist/openapi.json`). */
export const contractPath: string;
/** Absolute path of the emulator's admin API description (`dist/admin.json`). */
export const adminContractPath: string;
/** Absolute path of `surface.json`, the list of the 57 HTC operations. */
export const surfacePath: string;
