// The types generated from the contract (openapi/), reachable from the emulator through this one module: the HTC
// API's and the admin API's operations and schemas. Route handlers return bodies of these types, so a change of
// the contract that the emulator does not follow fails the type check.
export type { adminComponents, adminOperations } from "@htcemu/client/admin";
export type { components, operations, Readable } from "@htcemu/client";
