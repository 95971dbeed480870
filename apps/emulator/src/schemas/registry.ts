// Request schemas of the Container Registry resource. Only createRepo has a body: optional, and any JSON object is
// accepted with its members ignored (the Python client posts `{}`, the CLI and the tutorial send nothing).
import { z } from "zod";

export const createRepoBody = z.looseObject({}).optional();
