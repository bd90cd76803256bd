import { hashToken, NotFoundError, safeEqual, UnauthorizedError } from '@tessera/core/internal';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from './context.ts';

/**
 * Checks `Authorization: Bearer <TESSERA_ADMIN_TOKEN>` in constant time (compares SHA-256
 * digests, so the lengths match). With no admin token configured the admin API is off: 404.
 */
export function requireAdmin(request: FastifyRequest, ctx: AppContext): void {
  const match = /^Bearer +([^\s]+) *$/i.exec(request.headers.authorization ?? '');
  const presented = match?.[1] ? hashToken(match[1]) : undefined;
  // The local control socket (Unix socket in the data dir) uses the per-process credential.
  if (presented !== undefined && safeEqual(presented, hashToken(ctx.localAdminToken))) return;
  const expected = ctx.config.adminToken;
  if (expected === undefined)
    throw new NotFoundError('The admin API is off (TESSERA_ADMIN_TOKEN is not set)');
  if (presented === undefined || !safeEqual(presented, hashToken(expected))) {
    throw new UnauthorizedError('This endpoint needs the admin bearer token');
  }
}
