import type { ErrorCode } from '@tessera/core';
import {
  InvalidTokenError,
  isTesseraError,
  NotFoundError,
  parseSessionId,
  SessionRevokedError,
} from '@tessera/core/internal';
import type { AuthResult } from '@tessera/guard';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { checkCsrf, forwardedMethod, readCredential } from '../credentials.ts';
import { recordRevocation } from '../recent-revocations.ts';
import { defineRoute, type RouteSpec } from '../route-spec.ts';
import { Problem, SessionIdParams, SessionInfo, SessionList } from '../schemas.ts';
import { toSessionView } from '../session-view.ts';

const problem = (description: string) => ({
  description,
  schema: Problem,
  media: 'application/problem+json',
});
const TOKEN_ERRORS: ErrorCode[] = [
  'invalid_token',
  'token_expired',
  'session_expired',
  'session_revoked',
  'store_unavailable',
];

/** GET /v1/session, GET /v1/sessions, DELETE /v1/sessions/{id}, GET /v1/authorize. */
export function sessionRoutes(ctx: AppContext): RouteSpec[] {
  const current = defineRoute({
    method: 'GET',
    url: '/v1/session',
    summary: 'The current session and its user',
    tag: 'sessions',
    auth: 'session',
    responses: {
      200: { description: 'The session', schema: SessionInfo },
      401: problem('invalid_token, token_expired, session_revoked'),
    },
    errors: TOKEN_ERRORS,
    async handler(_request, reply, { session }) {
      const user = await ctx.users.findById(session.userId);
      if (!user) throw new InvalidTokenError('The user of this session no longer exists');
      reply.header('cache-control', 'no-store');
      return {
        session: toSessionView(session, session.id),
        user: { id: user.id, username: user.username, roles: user.roles },
      };
    },
  });

  const list = defineRoute({
    method: 'GET',
    url: '/v1/sessions',
    summary: "The caller's own live sessions (current: true on this one)",
    tag: 'sessions',
    auth: 'session',
    responses: {
      200: { description: 'Sessions, oldest first', schema: SessionList },
      401: problem('invalid_token'),
    },
    errors: TOKEN_ERRORS,
    async handler(_request, reply, { session }) {
      const sessions = await ctx.sessions.listSessions(session.userId);
      reply.header('cache-control', 'no-store');
      return { sessions: sessions.map((s) => toSessionView(s, session.id)) };
    },
  });

  const remove = defineRoute({
    method: 'DELETE',
    url: '/v1/sessions/:id',
    summary: "End one of the caller's sessions (404 for another user's)",
    tag: 'sessions',
    auth: 'session',
    params: SessionIdParams,
    responses: {
      204: { description: 'Session ended' },
      401: problem('invalid_token'),
      404: problem('not_found'),
    },
    errors: [...TOKEN_ERRORS, 'not_found', 'csrf'],
    async handler(_request, reply, { params, session }) {
      const owner = parseSessionId(params.id)?.userId;
      if (owner !== session.userId || !(await ctx.sessions.revokeSession(params.id))) {
        throw new NotFoundError('No such session');
      }
      recordRevocation(ctx, { kind: 'session', sessionIds: [params.id], live: 1 });
      return reply.code(204).send();
    },
  });

  type Who = { userId: string; sessionId: string; roles: readonly string[] };
  /** A revocation held by this instance may be missing from Redis after a failover: it refuses here whatever the feed or store says. */
  const unlessHeld = (who: Who): Who => {
    if (ctx.revoked.has(who.sessionId)) throw new SessionRevokedError('the session has ended');
    return who;
  };
  /** The guard's answer: its refusal, else the principal (unless held as revoked here). */
  const fromGuard = (result: AuthResult): Who => {
    if (!result.ok) throw result.error;
    return unlessHeld(result.principal);
  };

  /** Local verify + revocation set while the feed is current; else the store (one lookup). */
  const identify = async (token: string): Promise<Who> => {
    if (ctx.guard?.feedStatus()?.current) return fromGuard(await ctx.guard.authenticate(token));
    const { session } = await ctx.sessions.authenticate(token);
    return unlessHeld({ userId: session.userId, sessionId: session.id, roles: session.roles });
  };

  /**
   * The same decision without a promise when the guard has it at hand (a cached token decided
   * against the revocation set while the feed is current); `undefined` otherwise.
   */
  const identifyCached = (token: string): Who | undefined => {
    const result = ctx.guard?.authenticateCached(token);
    return result === undefined ? undefined : fromGuard(result);
  };

  /** A gateway drops the refusal's body (nginx auth_request): the code travels in a header it can copy. */
  const refuse = (reply: FastifyReply, error: unknown): never => {
    if (isTesseraError(error)) reply.header('x-tessera-error', error.code);
    throw error;
  };
  const allow = (request: FastifyRequest, reply: FastifyReply, who: Who) => {
    request.tesseraUser = { userId: who.userId, sessionId: who.sessionId };
    return reply
      .header('cache-control', 'no-store')
      .header('x-user-id', who.userId)
      .header('x-user-roles', who.roles.join(','))
      .header('x-session-id', who.sessionId)
      .code(200)
      .send();
  };
  /**
   * The decision is for the request the gateway forwards (its method from X-Forwarded-Method /
   * X-Original-Method, its Origin): a cookie-authenticated unsafe one must pass the CSRF rule.
   * A cached token is answered in this tick (no promise: every forwarded request pays this
   * route); otherwise the answer waits for the guard or the store.
   */
  const answerAuthorize = (request: FastifyRequest, reply: FastifyReply) => {
    let token: string;
    try {
      const credential = readCredential(request, ctx);
      if (!credential) throw new InvalidTokenError('No credential', { credentialMissing: true });
      checkCsrf(request, ctx, credential, forwardedMethod(request));
      token = credential.token;
      const cached = identifyCached(token);
      if (cached !== undefined) {
        allow(request, reply, cached);
        return undefined;
      }
    } catch (error) {
      return refuse(reply, error);
    }
    return identify(token).then(
      (who) => allow(request, reply, who),
      (error: unknown) => refuse(reply, error),
    );
  };

  const authorize = defineRoute({
    method: 'GET',
    url: '/v1/authorize',
    summary: 'Forward-auth for gateways (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz)',
    tag: 'gateway',
    auth: 'forwarded',
    responses: {
      200: {
        description: 'Authenticated; identity in X-User-Id, X-User-Roles (comma-separated), X-Session-Id',
        headers: {
          'X-User-Id': 'user id',
          'X-User-Roles': 'comma-separated roles',
          'X-Session-Id': 'session id',
        },
      },
      401: problem('no valid credential'),
      403: problem('csrf: a cookie-authenticated unsafe forwarded request failed the CSRF rule'),
    },
    errors: [...TOKEN_ERRORS, 'csrf'],
    handler: answerAuthorize,
  });

  // Envoy ext_authz (HTTP service) keeps the original method and appends the original path to
  // `path_prefix: /v1/authorize`: answer those the same way (left out of the OpenAPI document).
  const forwarded: RouteSpec[] = [];
  for (const url of ['/v1/authorize', '/v1/authorize/*']) {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      if (url === '/v1/authorize' && method === 'GET') continue;
      forwarded.push({ ...authorize, method, url, hidden: true } as RouteSpec);
    }
  }

  return [current, list, remove, authorize, ...forwarded] as RouteSpec[];
}
