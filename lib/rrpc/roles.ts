/**
 * Team accounts' roles, in order: a viewer sees everything and sends nothing; an operator also
 * sends calls, runs commands and batches and edits commands; an admin also manages devices,
 * API keys and users.
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether a caller of role `have` may do what needs `need`. */
export const roleAllows = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];
