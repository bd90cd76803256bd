import { hashToken, NotFoundError, safeEqual, UnauthorizedError } from '@tessera/core';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from './context.ts';

/**
 * Checks `Authorization: Bearer <TESSERA_ADMIN_TOKEN>` in constant time (compares SHA-256
 * digests, so the lengths match). With no admin token configured the admin API is off: 404.
 */
export function requireAdmin(request: FastifyRequest, ctx: AppContext): void {
  const expected = ctx.config.adminToken;
  if (expected === undefined)
    throw new NotFoundError('The admin API is off (TESSERA_ADMIN_TOKEN is not set)');
  const match = /^Bearer +([^\s]+) *$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1] || !safeEqual(hashToken(match[1]), hashToken(expected))) {
    throw new UnauthorizedError('This endpoint needs the admin bearer token');
  }
}
