import {
  CSRF_HEADER,
  CsrfError,
  hasTwoAuthorizations,
  InvalidTokenError,
  isUnsafeMethod,
  passesCsrfRule,
} from '@tessera/core/internal';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from './context.ts';

export const ACCESS_COOKIE = 'tessera_access';
export const REFRESH_COOKIE = 'tessera_refresh';
export const SESSION_COOKIE = 'tessera_session';
export const TRANSFER_HEADER = 'x-tessera-transfer';
const REFRESH_PATH = '/v1/refresh';

export interface Credential {
  token: string;
  source: 'header' | 'cookie' | 'body';
}

/** The bearer token, else the access (jwt) or session (opaque) cookie; `null` when none. */
export function readCredential(request: FastifyRequest, ctx: AppContext): Credential | null {
  const header = request.headers.authorization;
  // Node keeps the first of two Authorization headers and drops the second: refuse the pair.
  if (header !== undefined && hasTwoAuthorizations(request.raw.rawHeaders)) {
    throw new InvalidTokenError('More than one Authorization header');
  }
  if (header !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    if (!match?.[1]) throw new InvalidTokenError('The Authorization header is not a Bearer token');
    return { token: match[1], source: 'header' };
  }
  const name = ctx.config.tokenMode === 'jwt' ? ACCESS_COOKIE : SESSION_COOKIE;
  const cookie = request.cookies[name];
  return cookie ? { token: cookie, source: 'cookie' } : null;
}

/** A header's single value (a repeated header counts as absent: it is not trustworthy). */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The CSRF rule (`passesCsrfRule` in @tessera/core, docs/security.md): a cookie-authenticated
 * unsafe request needs an `Origin` equal to the issuer's origin (or one of
 * TESSERA_ALLOWED_ORIGINS), or the header `X-Tessera-CSRF: 1`. `method` is the method the
 * rule is about: the request's own, or at `/v1/authorize` the forwarded one.
 */
export function checkCsrf(
  request: FastifyRequest,
  ctx: AppContext,
  credential: Credential,
  method: string = request.method,
): void {
  const passes = passesCsrfRule(
    {
      method,
      credential: credential.source === 'cookie' ? 'cookie' : 'bearer',
      origin: single(request.headers.origin),
      csrfHeader: single(request.headers[CSRF_HEADER]),
    },
    ctx.csrfOrigins,
  );
  if (passes) return;
  throw new CsrfError(
    'A cookie-authenticated request needs a matching Origin or the X-Tessera-CSRF: 1 header',
  );
}

/** Method tokens (RFC 9110 §5.6.2), upper-cased by the caller. */
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

/**
 * The method the CSRF rule judges at `/v1/authorize` (contract §3 "Forward-auth"): the
 * forwarded request's, from `X-Forwarded-Method` (Traefik, Envoy) or `X-Original-Method`
 * (nginx), else the subrequest's own (Envoy ext_authz keeps it). A gateway sets its own
 * header but may pass the other one through from the client, so the most cautious reading
 * wins: if any of them names an unsafe method (or is malformed or repeated), it is unsafe.
 */
export function forwardedMethod(request: FastifyRequest): string {
  const candidates = [
    request.headers['x-forwarded-method'],
    request.headers['x-original-method'],
    request.method,
  ];
  for (const given of candidates) {
    if (given === undefined) continue;
    const value = single(given)?.trim();
    if (value === undefined || !METHOD_TOKEN.test(value)) return 'POST';
    if (isUnsafeMethod(value)) return value.toUpperCase();
  }
  return 'GET';
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
