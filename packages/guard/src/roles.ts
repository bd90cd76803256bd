import { InsufficientRoleError } from '@tessera/core/internal';
import type { Principal } from './types.ts';

/** Validates a role list for `requireRole` once, at setup. */
export function checkRoleList(roles: readonly string[]): readonly string[] {
  if (roles.length === 0 || !roles.every((role) => typeof role === 'string' && role.length > 0)) {
    throw new TypeError('requireRole: expected at least one non-empty role name');
  }
  return [...roles];
}

/** `null` when the principal holds any of `roles`, else the 403 `insufficient_role` error. */
export function checkRole(
  principal: Principal | undefined,
  roles: readonly string[],
): InsufficientRoleError | null {
  if (principal !== undefined && roles.some((role) => principal.roles.includes(role))) return null;
  return new InsufficientRoleError('the session lacks a required role');
}
