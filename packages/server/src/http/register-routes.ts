import type { SessionRecord } from '@tessera/core';
import {
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  UnsupportedMediaTypeError,
} from '@tessera/core/internal';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { requireAdmin } from './admin-auth.ts';
import type { AppContext } from './context.ts';
import { sendProblem } from './problem.ts';
import type { RouteSpec } from './route-spec.ts';
import { authenticateRequest } from './session-view.ts';

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    .join('; ');
}

function mediaType(request: FastifyRequest): string | undefined {
  return request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
}

function hasBody(request: FastifyRequest): boolean {
  return request.body !== undefined && request.body !== null;
}

function parseInput(spec: RouteSpec, request: FastifyRequest): { body: unknown; params: unknown } {
  let body: unknown;
  if (spec.body) {
    if (hasBody(request)) {
      const media = mediaType(request);
      // Form endpoints (RFC 7662/7009) also take JSON; JSON endpoints take only JSON.
      const accepted =
        spec.body.media === 'application/json' ? [spec.body.media] : [spec.body.media, 'application/json'];
      if (media === undefined || !accepted.includes(media)) {
        throw new UnsupportedMediaTypeError(`Send ${spec.body.media}`);
      }
      const parsed = spec.body.schema.safeParse(request.body);
      if (!parsed.success) throw new InvalidRequestError(describeIssues(parsed.error));
      body = parsed.data;
    } else if (!spec.body.optional) {
      throw new InvalidRequestError(`A ${spec.body.media} body is required`);
    }
  }
  let params: unknown;
  if (spec.params) {
    const parsed = spec.params.safeParse(request.params);
    if (!parsed.success) throw new InvalidRequestError(describeIssues(parsed.error));
    params = parsed.data;
  }
  return { body, params };
}

/** The route's declared `auth`, applied in one place: the session for `session` routes. */
async function authenticate(
  spec: RouteSpec,
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<SessionRecord> {
  try {
    return (await authenticateRequest(request, ctx)).session;
  } catch (error) {
    spec.onAuthFailure?.(request, reply, error);
    throw error;
  }
}

function toPattern(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

/**
 * Registers the routes, and a not-found handler that answers 405 (with `Allow`) when the path
 * exists under another method, else 404 — both as problem+json.
 */
export function registerRoutes(app: FastifyInstance, ctx: AppContext, specs: RouteSpec[]): void {
  const patterns = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const spec of specs) {
    const entry = patterns.get(spec.url) ?? { pattern: toPattern(spec.url), methods: new Set<string>() };
    entry.methods.add(spec.method);
    if (spec.method === 'GET') entry.methods.add('HEAD');
    patterns.set(spec.url, entry);
    app.route({
      method: spec.method,
      url: spec.url,
      // Not an async function: a route without a session to look up (the gateway's
      // /v1/authorize above all) goes straight to its handler, no promise hop of ours.
      // Fastify answers a synchronous throw like a rejected promise.
      handler: (request, reply) => {
        // Admin: before the body is validated, so an unauthorised caller learns nothing.
        if (spec.auth === 'admin') requireAdmin(request, ctx);
        const input = parseInput(spec, request);
        if (spec.auth !== 'session')
          return spec.handler(request, reply, { ...input, session: undefined } as never);
        return authenticate(spec, ctx, request, reply).then((session) =>
          spec.handler(request, reply, { ...input, session } as never),
        );
      },
    });
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...patterns.values()].find((entry) => entry.pattern.test(path));
    if (allowed) {
      reply.header('allow', [...allowed.methods].join(', '));
      return sendProblem(reply, new MethodNotAllowedError(`${request.method} is not allowed here`));
    }
    return sendProblem(reply, new NotFoundError('No such endpoint'));
  });
}
