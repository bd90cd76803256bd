import { CsrfError, InvalidTokenError } from '@tessera/core/internal';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from './context.ts';

export const ACCESS_COOKIE = 'tessera_access';
export const REFRESH_COOKIE = 'tessera_refresh';
export const SESSION_COOKIE = 'tessera_session';
export const CSRF_HEADER = 'x-tessera-csrf';
export const TRANSFER_HEADER = 'x-tessera-transfer';
const REFRESH_PATH = '/v1/refresh';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface Credential {
  token: string;
  source: 'header' | 'cookie' | 'body';
}

/** The bearer token, else the access (jwt) or session (opaque) cookie; `null` when none. */
export function readCredential(request: FastifyRequest, ctx: AppContext): Credential | null {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    if (!match?.[1]) throw new InvalidTokenError('The Authorization header is not a Bearer token');
    return { token: match[1], source: 'header' };
  }
  const name = ctx.config.tokenMode === 'jwt' ? ACCESS_COOKIE : SESSION_COOKIE;
  const cookie = request.cookies[name];
  return cookie ? { token: cookie, source: 'cookie' } : null;
}

/**
 * A cookie-authenticated unsafe request must prove it is same-site: an `Origin` equal to the
 * issuer's origin (or one of TESSERA_ALLOWED_ORIGINS), or the header `X-Tessera-CSRF: 1`
 * (a cross-site form cannot set it and a cross-site fetch with it needs a CORS preflight).
 */
export function checkCsrf(request: FastifyRequest, ctx: AppContext, credential: Credential): void {
  if (credential.source !== 'cookie' || !UNSAFE.has(request.method)) return;
  if (request.headers[CSRF_HEADER] === '1') return;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    if (origin === new URL(ctx.config.issuer).origin || ctx.config.allowedOrigins.includes(origin)) return;
  }
  throw new CsrfError(
    'A cookie-authenticated request needs a matching Origin or the X-Tessera-CSRF: 1 header',
  );
}

/** `true` when the client asked for its tokens as cookies. */
export function wantsCookies(request: FastifyRequest): boolean {
  return request.headers[TRANSFER_HEADER]?.toString().toLowerCase() === 'cookie';
}

function cookieOptions(ctx: AppContext, path: string, maxAgeSeconds: number) {
  return {
    path,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: ctx.config.cookieSecure,
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
    ...(ctx.config.cookieDomain ? { domain: ctx.config.cookieDomain } : {}),
  };
}

export interface IssuedForCookies {
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
  /** Seconds until the session's absolute end. */
  sessionSeconds: number;
}

/** Sets the credential cookies for a login or refresh answer. */
export function setCredentialCookies(reply: FastifyReply, ctx: AppContext, issued: IssuedForCookies): void {
  if (ctx.config.tokenMode === 'opaque') {
    reply.setCookie(SESSION_COOKIE, issued.accessToken, cookieOptions(ctx, '/', issued.sessionSeconds));
    return;
  }
  reply.setCookie(ACCESS_COOKIE, issued.accessToken, cookieOptions(ctx, '/', issued.expiresIn));
  if (issued.refreshToken !== undefined) {
    reply.setCookie(
      REFRESH_COOKIE,
      issued.refreshToken,
      cookieOptions(ctx, REFRESH_PATH, issued.sessionSeconds),
    );
  }
}

/** Expires every credential cookie (logout). */
export function clearCredentialCookies(reply: FastifyReply, ctx: AppContext): void {
  const domain = ctx.config.cookieDomain ? { domain: ctx.config.cookieDomain } : {};
  const base = { httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.cookieSecure, ...domain };
  reply.clearCookie(ACCESS_COOKIE, { ...base, path: '/' });
  reply.clearCookie(SESSION_COOKIE, { ...base, path: '/' });
  reply.clearCookie(REFRESH_COOKIE, { ...base, path: REFRESH_PATH });
}
