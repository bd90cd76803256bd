import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Guard } from '../guard.ts';
import { toProblemResponse } from '../lib/problem-response.ts';
import { checkRole, checkRoleList } from '../roles.ts';
import type { GuardError, Principal } from '../types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the Tessera plugin for a request with a valid, unrevoked session. */
    tessera: Principal | null;
  }
}

export interface TesseraPluginOptions {
  guard: Guard;
  /** Authenticate every route of the encapsulation context (a `preHandler` hook). @default true */
  global?: boolean;
}

async function sendProblem(reply: FastifyReply, error: GuardError): Promise<void> {
  const problem = toProblemResponse(error);
  await reply.code(problem.status).headers(problem.headers).send(problem.body);
}

/** A `preHandler` that authenticates and sets `request.tessera`, or answers 401 / 503. */
export function authenticate(guard: Guard): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const result = await guard.authenticateRequest(request.headers, request.method, request.raw.rawHeaders);
    if (!result.ok) return sendProblem(reply, result.error);
    request.tessera = result.principal;
  };
}

/** A `preHandler` (after authentication): 403 `insufficient_role` unless the session holds one of `roles`. */
export function requireRole(...roles: string[]): preHandlerAsyncHookHandler {
  const required = checkRoleList(roles);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const error = checkRole(request.tessera ?? undefined, required);
    if (error !== null) return sendProblem(reply, error);
  };
}

async function plugin(app: FastifyInstance, options: TesseraPluginOptions): Promise<void> {
  if (options.guard === undefined) throw new TypeError('tessera plugin: expected options.guard');
  app.decorateRequest('tessera', null);
  if (options.global !== false) app.addHook('preHandler', authenticate(options.guard));
}

/**
 * Fastify plugin (via fastify-plugin, so it applies to the parent context): decorates
 * `request.tessera` and, unless `global: false`, authenticates every route.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(tesseraPlugin, { guard });
 * app.get('/admin', { preHandler: requireRole('admin') }, async (request) => request.tessera);
 * ```
 */
export const tesseraPlugin = fp(plugin, { name: '@tessera/guard', fastify: '5.x' });
