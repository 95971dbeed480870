// Request schemas of the Task resource.
import { z } from "zod";
import { lifecycleStatusSchema, pageQueryShape } from "./common.js";

export const getTasksQuery = z.object(pageQueryShape);
export const createTaskBody = z.object({ taskName: z.string(), taskDescription: z.string() });
export const updateTaskBody = z.object({ lifecycleStatus: lifecycleStatusSchema });
