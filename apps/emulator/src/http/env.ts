// The Hono environment every handler sees: the emulator's services and, on authenticated operations, the caller.
import type { Context } from "hono";
import type { Principal } from "./auth.js";
import type { Services } from "../services.js";

export interface AppEnv {
  Variables: {
    services: Services;
    principal: Principal;
    operationId: string;
  };
}

export type AppContext = Context<AppEnv>;
