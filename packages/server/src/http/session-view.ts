import type { AuthenticatedSession, IssuedTokens, SessionRecord } from '@tessera/core';
import { InvalidTokenError } from '@tessera/core/internal';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AppContext } from './context.ts';
import { checkCsrf, readCredential, setCredentialCookies } from './credentials.ts';
import type { Session, TokenResponse } from './schemas.ts';

/** A stored session as the API shows it (ISO-8601 times, no internal fields). */
export function toSessionView(record: SessionRecord, currentId?: string): z.infer<typeof Session> {
  return {
    id: record.id,
    userId: record.userId,
    roles: record.roles,
    createdAt: new Date(record.createdAt).toISOString(),
    lastSeenAt: new Date(record.lastSeenAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
    ip: record.ip,
    userAgent: record.userAgent,
    ...(currentId !== undefined ? { current: record.id === currentId } : {}),
  };
}

/**
 * Answers a login or refresh: the tokens in the body, or (cookie transfer) only as cookies with
 * a body that carries no token string.
 */
export function sendTokens(
  reply: FastifyReply,
  ctx: AppContext,
  issued: IssuedTokens,
  asCookies: boolean,
): z.infer<typeof TokenResponse> {
  const session = toSessionView(issued.session, issued.session.id);
  reply.header('cache-control', 'no-store');
  if (!asCookies) {
    return {
      accessToken: issued.accessToken,
      ...(issued.refreshToken !== undefined ? { refreshToken: issued.refreshToken } : {}),
      tokenType: 'Bearer',
      expiresIn: issued.expiresIn,
      session,
    };
  }
  setCredentialCookies(reply, ctx, {
    accessToken: issued.accessToken,
    ...(issued.refreshToken !== undefined ? { refreshToken: issued.refreshToken } : {}),
    expiresIn: issued.expiresIn,
    sessionSeconds: (issued.session.absoluteExpiresAt - ctx.clock.now()) / 1000,
  });
  return { tokenType: 'Bearer', expiresIn: issued.expiresIn, session };
}

/** Reads the request's credential, applies the CSRF rule, and checks it against the store. */
export async function authenticateRequest(
  request: FastifyRequest,
  ctx: AppContext,
): Promise<AuthenticatedSession> {
  const credential = readCredential(request, ctx);
  if (!credential)
    throw new InvalidTokenError('No credential: send Authorization: Bearer or the session cookies');
  checkCsrf(request, ctx, credential);
  const authenticated = await ctx.sessions.authenticate(credential.token);
  request.tesseraUser = { userId: authenticated.session.userId, sessionId: authenticated.session.id };
  return authenticated;
}

/** Client details recorded with a new session. */
export function describeClient(request: FastifyRequest): { ip: string; userAgent: string } {
  return { ip: request.ip, userAgent: (request.headers['user-agent'] ?? '').slice(0, 256) };
}
