// Who may change what. Production's roles: workspace, organization and Rescale administrators (and superusers);
// a project's administrator is, in the emulator, the user who created the project.
import type { Principal } from "./principal.js";
import { forbidden } from "../errors.js";

export function isAdministrator(principal: Principal): boolean {
  const u = principal.user;
  return Boolean(u.is_workspace_admin || u.is_organization_admin || u.is_rescale_admin || u.is_superuser);
}

export function requireAdministrator(principal: Principal, what: string): void {
  if (!isAdministrator(principal)) throw forbidden(`Only workspace administrators may ${what}.`);
}

/** Administrators, or the project's creator. */
export function requireProjectAdministrator(principal: Principal, createdBy: string, what: string): void {
  if (!isAdministrator(principal) && principal.user.id !== createdBy) {
    throw forbidden(`Only workspace administrators and the project's creator may ${what}.`);
  }
}
