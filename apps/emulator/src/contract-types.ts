// The types generated from the contract (openapi/), reachable from the emulator through this one module: the HTC
// API's and the admin API's operations and schemas, from their one home, @htcemu/openapi. Route handlers return
// bodies of these types, so a change of the contract that the emulator does not follow fails the type check.
import type { components, Readable } from "@htcemu/openapi/types";

export type { components as adminComponents, operations as adminOperations } from "@htcemu/openapi/types/admin";
export type { components, operations, Readable } from "@htcemu/openapi/types";

/**
 * A body as the emulator sends it: every member of every object present, with `null` where the contract allows
 * `null` and there is no value. The contract's `required` lists promise clients only what production promises;
 * this type holds the emulator to more, at compile time (the run-time check is the contract's
 * `allDeclaredPresent` option, used by --strict). A page's `next` link is the one member left out when unset
 * (`x-htc-absent-when-unset` in the contract; openapi/scripts/check-required.mjs keeps it to `next`).
 */
export type AllPresent<T> = T extends readonly (infer E)[]
  ? AllPresent<E>[]
  : T extends object
    ? "next" extends keyof T
      ? { [K in keyof T as K extends "next" ? never : K]-?: AllPresent<Exclude<T[K], undefined>> } & {
          next?: Exclude<T["next" & keyof T], null>;
        }
      : { [K in keyof T]-?: AllPresent<Exclude<T[K], undefined>> }
    : T;

/** A schema of the HTC contract as the emulator sends it (read-only members included, every member present). */
export type Sent<Name extends keyof components["schemas"]> = AllPresent<Readable<components["schemas"][Name]>>;
