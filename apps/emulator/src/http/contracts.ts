// The two API descriptions the emulator serves, at run time (@htcemu/contract): the HTC contract under /api/v1
// (and at the root), the emulator's admin API under /_emulator/v1. Loaded on first use and shared: they are
// read-only documents.
import { type Contract, loadContract } from "@htcemu/contract";
import { adminContractPath } from "@htcemu/openapi";
import type { ServedOperation } from "./env.js";

export const API_PREFIX = "/api/v1";
export const ADMIN_PREFIX = "/_emulator/v1";

let htc: Contract | undefined;
let admin: Contract | undefined;

/** The description of one API. */
export function contractOf(api: ServedOperation["api"]): Contract {
  if (api === "htc") {
    htc ??= loadContract();
    return htc;
  }
  admin ??= loadContract(adminContractPath, { prefix: ADMIN_PREFIX });
  return admin;
}
