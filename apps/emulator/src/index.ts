// The public entry of @htcemu/emulator: embed the emulator in a test suite or a script.
export { type RunningEmulator, type StartOptions, startEmulator } from "./emulator.js";
export { type EmulatorOptions, optionEnvironment } from "./options.js";
export { type OffPart, offParts, offPartsBanner, probeParts } from "./parts.js";
