import { DomainError } from "../core/errors";
import { ROLES, roleAllows, type Role } from "../../rrpc/roles";

export { ROLES, roleAllows, type Role };

/** What a route needs: anyone ("public"), or a caller of at least this role. */
export type Access = "public" | Role;

export function isRole(s: unknown): s is Role {
  return typeof s === "string" && (ROLES as readonly string[]).includes(s);
}

/** Refuses (403 forbidden) a caller whose role is below `need`, naming the role needed. */
export function requireRole(have: Role, need: Role): void {
  if (!roleAllows(have, need)) throw new DomainError("forbidden", `needs role ${need}; your role is ${have}`);
}
