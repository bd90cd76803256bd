import type { ErrorCode } from '@tessera/core';
import { InvalidRequestError, NotFoundError, parseSessionId } from '@tessera/core/internal';
import type { AppContext } from '../context.ts';
import { recordRevocation } from '../recent-revocations.ts';
import { defineRoute, type RouteSpec } from '../route-spec.ts';
import {
  CreatedUser,
  CreateUserBody,
  Introspection,
  Problem,
  SessionIdParams,
  SessionList,
  TokenForm,
  UsernameParams,
} from '../schemas.ts';
import { toSessionView } from '../session-view.ts';

const problem = (description: string) => ({
  description,
  schema: Problem,
  media: 'application/problem+json',
});
const ADMIN_ERRORS: ErrorCode[] = ['unauthorized', 'not_found', 'store_unavailable'];
const FORM = 'application/x-www-form-urlencoded' as const;

/** RFC 7662 introspection, RFC 7009 revocation and the admin users/sessions API. */
export function adminRoutes(ctx: AppContext): RouteSpec[] {
  const userOrThrow = async (username: string) => {
    const user = await ctx.users.findByUsername(username);
    if (!user) throw new NotFoundError('No such user');
    return user;
  };

  const introspect = defineRoute({
    method: 'POST',
    url: '/v1/introspect',
    summary: 'RFC 7662 token introspection (admin bearer)',
    tag: 'admin',
    auth: 'admin',
    body: { schema: TokenForm, media: FORM },
    responses: { 200: { description: 'Introspection', schema: Introspection }, 401: problem('unauthorized') },
    errors: ['invalid_request', ...ADMIN_ERRORS],
    async handler(_request, reply, { body }) {
      reply.header('cache-control', 'no-store');
      return ctx.sessions.introspect(body.token);
    },
  });

  const revoke = defineRoute({
    method: 'POST',
    url: '/v1/revoke',
    summary: 'RFC 7009 revocation: ends the session of any Tessera token; 200 for unknown tokens too',
    tag: 'admin',
    auth: 'admin',
    body: { schema: TokenForm, media: FORM },
    responses: { 200: { description: 'Revoked (or unknown)' }, 401: problem('unauthorized') },
    errors: ['invalid_request', ...ADMIN_ERRORS],
    async handler(_request, reply, { body }) {
      // Only a token that proves its session (stored secret, valid signature) revokes anything.
      const sid = await ctx.sessions.revokeToken(body.token);
      recordRevocation(ctx, { kind: 'token', sessionIds: sid ? [sid] : [], live: 0 });
      return reply.code(200).send();
    },
  });

  const createUser = defineRoute({
    method: 'POST',
    url: '/v1/admin/users',
    summary: 'Create a user',
    tag: 'admin',
    auth: 'admin',
    body: { schema: CreateUserBody, media: 'application/json' },
    responses: {
      201: { description: 'Created', schema: CreatedUser },
      401: problem('unauthorized'),
      409: problem('user_exists'),
    },
    errors: ['invalid_request', 'user_exists', ...ADMIN_ERRORS],
    async handler(_request, reply, { body }) {
      const user = await ctx.users.addUser(body.username, body.password, body.roles);
      return reply.code(201).send({ id: user.id });
    },
  });

  const listUserSessions = defineRoute({
    method: 'GET',
    url: '/v1/admin/users/:username/sessions',
    summary: "A user's live sessions",
    tag: 'admin',
    auth: 'admin',
    params: UsernameParams,
    responses: {
      200: { description: 'Sessions', schema: SessionList },
      401: problem('unauthorized'),
      404: problem('not_found'),
    },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { params }) {
      const user = await userOrThrow(params.username);
      reply.header('cache-control', 'no-store');
      return { sessions: (await ctx.sessions.listSessions(user.id)).map((s) => toSessionView(s)) };
    },
  });

  const revokeUserSessions = defineRoute({
    method: 'DELETE',
    url: '/v1/admin/users/:username/sessions',
    summary: 'Global invalidation of every session of a user',
    tag: 'admin',
    auth: 'admin',
    params: UsernameParams,
    responses: { 204: { description: 'Revoked' }, 401: problem('unauthorized'), 404: problem('not_found') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { params }) {
      const user = await userOrThrow(params.username);
      const { sessionIds, count } = await ctx.sessions.revokeUserSessions(user.id);
      recordRevocation(ctx, { kind: 'user', sessionIds, live: count });
      return reply.code(204).send();
    },
  });

  const revokeSession = defineRoute({
    method: 'DELETE',
    url: '/v1/admin/sessions/:id',
    summary: 'Global invalidation of one session (any user)',
    tag: 'admin',
    auth: 'admin',
    params: SessionIdParams,
    responses: { 204: { description: 'Revoked' }, 401: problem('unauthorized'), 404: problem('not_found') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { params }) {
      if (!parseSessionId(params.id)) throw new InvalidRequestError('Not a session id');
      if (!(await ctx.sessions.revokeSession(params.id))) throw new NotFoundError('No such session');
      recordRevocation(ctx, { kind: 'session', sessionIds: [params.id], live: 1 });
      return reply.code(204).send();
    },
  });

  return [introspect, revoke, createUser, listUserSessions, revokeUserSessions, revokeSession] as RouteSpec[];
}
