import { isTesseraError } from '@tessera/core';
import {
  CsrfError,
  InvalidCredentialsError,
  InvalidTokenError,
  parseOpaqueToken,
  RefreshTokenReusedError,
} from '@tessera/core/internal';
import type { FastifyRequest } from 'fastify';
import { normalizeUsername } from '../../users/username.ts';
import type { AppContext } from '../context.ts';
import {
  checkCsrf,
  clearCredentialCookies,
  REFRESH_COOKIE,
  readCredential,
  wantsCookies,
} from '../credentials.ts';
import { beginLoginAttempt } from '../login-rate-limit.ts';
import { recordRevocation } from '../recent-revocations.ts';
import { defineRoute, type RouteSpec } from '../route-spec.ts';
import { LoginBody, Problem, RefreshBody, TokenResponse } from '../schemas.ts';
import { describeClient, sendTokens } from '../session-view.ts';

const problem = (description: string) => ({
  description,
  schema: Problem,
  media: 'application/problem+json',
});

/**
 * A login ends the session whose valid credential the request carried (bearer or cookie), so
 * re-authenticating never leaves the previous session alive beside the new one (ASVS 5.0
 * 7.2.4). Runs after the new session exists, so the `reject` policy is unchanged.
 */
async function endPresentedSession(request: FastifyRequest, ctx: AppContext): Promise<void> {
  let token: string | undefined;
  try {
    token = readCredential(request, ctx)?.token;
  } catch {
    return; // a malformed Authorization header names no session
  }
  if (token === undefined) return;
  const current = await ctx.sessions.authenticate(token).catch((error: unknown) => {
    if (isTesseraError(error) && error.code === 'store_unavailable') throw error;
    return null; // expired, revoked or forged: nothing to end
  });
  if (current === null) return;
  ctx.revoked.add([current.session.id]); // before the store, as logout
  if (await ctx.sessions.revokeSession(current.session.id)) {
    recordRevocation(ctx, { kind: 'session', sessionIds: [current.session.id], live: 1 });
  }
}

function outcomeOf(error: unknown): string {
  return isTesseraError(error) ? error.code : 'error';
}

/** POST /v1/login, /v1/refresh, /v1/logout, /v1/logout/all. */
export function authRoutes(ctx: AppContext): RouteSpec[] {
  const login = defineRoute({
    method: 'POST',
    url: '/v1/login',
    summary: 'Log in with username and password',
    tag: 'sessions',
    auth: 'none',
    body: { schema: LoginBody, media: 'application/json' },
    responses: {
      200: { description: 'Session created', schema: TokenResponse },
      400: problem('invalid_request'),
      401: problem('invalid_credentials'),
      409: problem('session_exists'),
      429: problem('rate_limited (with Retry-After)'),
    },
    errors: ['invalid_request', 'invalid_credentials', 'session_exists', 'rate_limited', 'store_unavailable'],
    async handler(request, reply, { body }) {
      try {
        const client = describeClient(request);
        const attempt = await beginLoginAttempt(ctx, client.ip, normalizeUsername(body.username));
        const user = await ctx.users.checkPassword(body.username, body.password);
        if (!user) throw new InvalidCredentialsError('The username or password is wrong');
        await attempt.succeeded();
        request.tesseraUser = { userId: user.id, sessionId: '' };
        const issued = await ctx.sessions.login({
          userId: user.id,
          roles: user.roles,
          ...client,
          force: body.force ?? false,
        });
        request.tesseraUser = { userId: user.id, sessionId: issued.session.id };
        await endPresentedSession(request, ctx);
        ctx.metrics.logins.inc({ outcome: 'success' });
        ctx.metrics.activeSessions.inc();
        return sendTokens(reply, ctx, issued, wantsCookies(request));
      } catch (error) {
        ctx.metrics.logins.inc({ outcome: outcomeOf(error) });
        throw error;
      }
    },
  });

  const refresh = defineRoute({
    method: 'POST',
    url: '/v1/refresh',
    summary: 'Exchange a refresh token (body or tessera_refresh cookie) for new tokens',
    tag: 'sessions',
    auth: 'none',
    body: { schema: RefreshBody, media: 'application/json', optional: true },
    responses: {
      200: { description: 'New tokens', schema: TokenResponse },
      401: problem('invalid_token, session_expired, refresh_token_reused'),
      409: problem('access_token_active'),
    },
    errors: [
      'invalid_request',
      'invalid_token',
      'session_expired',
      'refresh_token_reused',
      'access_token_active',
      'csrf',
      'store_unavailable',
    ],
    async handler(request, reply, { body }) {
      let token: string | undefined;
      try {
        token = body?.refreshToken;
        let fromCookie = false;
        if (token === undefined) {
          token = request.cookies[REFRESH_COOKIE];
          if (!token)
            throw new InvalidTokenError('No refresh token: send { refreshToken } or the refresh cookie');
          fromCookie = true;
          checkCsrf(request, ctx, { token, source: 'cookie' });
        }
        // A revocation this instance made that no replica confirmed yet: a failover may have
        // lost it in Redis, so refuse its session here whatever the store says.
        const presented = parseOpaqueToken(token, 'refresh');
        if (presented && ctx.revoked.has(presented.sessionId)) {
          throw new InvalidTokenError('the refresh token is not valid');
        }
        const issued = await ctx.sessions.refresh(token, describeClient(request));
        request.tesseraUser = { userId: issued.session.userId, sessionId: issued.session.id };
        // A user removed from the user store keeps no session (ASVS 5.0 7.4.2): the next refresh ends it.
        if (!(await ctx.users.findById(issued.session.userId))) {
          ctx.revoked.add([issued.session.id]);
          if (await ctx.sessions.revokeSession(issued.session.id)) {
            recordRevocation(ctx, { kind: 'session', sessionIds: [issued.session.id], live: 1 });
          }
          throw new InvalidTokenError('The user of this session no longer exists');
        }
        ctx.metrics.refreshes.inc({ outcome: 'success' });
        return sendTokens(reply, ctx, issued, fromCookie || wantsCookies(request));
      } catch (error) {
        ctx.metrics.refreshes.inc({ outcome: outcomeOf(error) });
        if (error instanceof RefreshTokenReusedError) {
          const reused = token === undefined ? null : parseOpaqueToken(token, 'refresh');
          ctx.metrics.reuseDetections.inc();
          recordRevocation(ctx, { kind: 'session', sessionIds: reused ? [reused.sessionId] : [], live: 1 });
        }
        throw error;
      }
    },
  });

  const logout = defineRoute({
    method: 'POST',
    url: '/v1/logout',
    summary: 'End the session of the presented credential and clear the cookies',
    tag: 'sessions',
    auth: 'session',
    responses: { 204: { description: 'Session ended' }, 401: problem('invalid_token') },
    errors: ['invalid_token', 'token_expired', 'session_revoked', 'csrf', 'store_unavailable'],
    onAuthFailure(request, reply, error) {
      // A failed logout still clears the cookies (an expired access cookie is not even sent,
      // but the refresh cookie must go), unless the request is a refused cross-site one.
      if (!(error instanceof CsrfError) && request.headers.authorization === undefined) {
        clearCredentialCookies(reply, ctx);
      }
    },
    async handler(_request, reply, { session }) {
      ctx.revoked.add([session.id]); // before the store: /v1/authorize refuses it from now on
      if (await ctx.sessions.revokeSession(session.id)) {
        recordRevocation(ctx, { kind: 'session', sessionIds: [session.id], live: 1 });
      }
      clearCredentialCookies(reply, ctx);
      return reply.code(204).send();
    },
  });

  const logoutAll = defineRoute({
    method: 'POST',
    url: '/v1/logout/all',
    summary: 'End every session of the caller',
    tag: 'sessions',
    auth: 'session',
    responses: { 204: { description: 'Every session of the user ended' }, 401: problem('invalid_token') },
    errors: ['invalid_token', 'token_expired', 'session_revoked', 'csrf', 'store_unavailable'],
    async handler(_request, reply, { session }) {
      const { sessionIds, count } = await ctx.sessions.revokeUserSessions(session.userId);
      recordRevocation(ctx, { kind: 'user', sessionIds, live: count });
      clearCredentialCookies(reply, ctx);
      return reply.code(204).send();
    },
  });

  return [login, refresh, logout, logoutAll] as RouteSpec[];
}
