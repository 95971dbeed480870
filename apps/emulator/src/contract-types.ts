// The types generated from the contract (openapi/), reachable from the emulator through this one module: the HTC
// API's and the admin API's operations and schemas, from their one home, @htcemu/openapi. Route handlers return
// bodies of these types, so a change of the contract that the emulator does not follow fails the type check.
export type { components as adminComponents, operations as adminOperations } from "@htcemu/openapi/types/admin";
export type { components, operations, Readable } from "@htcemu/openapi/types";
