// Identifier formats, matching what production hands out (see the reference, "Identifier formats").
import { randomBytes, randomInt, randomUUID } from "node:crypto";

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Workspace ids look like `04-8473942`. */
export function newWorkspaceId(): string {
  return `${String(randomInt(0, 100)).padStart(2, "0")}-${String(randomInt(0, 10_000_000)).padStart(7, "0")}`;
}

/** User ids are short alphanumerics such as `qWoUF`. */
export function newUserId(): string {
  let id = "";
  for (let i = 0; i < 5; i++) id += alphanumeric[randomInt(0, alphanumeric.length)];
  return id;
}

/** Rescale API keys are 40 hex characters. */
export function newApiKey(): string {
  return randomBytes(20).toString("hex");
}

/** Projects, tasks, batches and events use UUIDs. */
export function newUuid(): string {
  return randomUUID();
}
