// Request schemas of the Provider resource.
import { z } from "zod";
import { cloudProviderSchema, queryBoolean } from "./common.js";

export const getRegionsQuery = z.object({ cloudProvider: cloudProviderSchema.optional(), enabled: queryBoolean.optional() });
