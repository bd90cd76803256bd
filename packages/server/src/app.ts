import { randomBytes, randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { type Clock, systemClock } from '@tessera/core';
import { ReplicaWaitTimeoutError } from '@tessera/core/internal';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { type DestinationStream, pino } from 'pino';
import type { ServerConfig } from './config/env-config.ts';
import type { AppContext } from './http/context.ts';
import { buildOpenApiDocument } from './http/openapi.ts';
import { sendProblem, toTesseraError } from './http/problem.ts';
import { createRecentRevocations } from './http/recent-revocations.ts';
import { registerRoutes } from './http/register-routes.ts';
import type { RouteSpec } from './http/route-spec.ts';
import { adminRoutes } from './http/routes/admin-routes.ts';
import { authRoutes } from './http/routes/auth-routes.ts';
import { openApiRoute } from './http/routes/openapi-route.ts';
import { opsRoutes } from './http/routes/ops-routes.ts';
import { sessionRoutes } from './http/routes/session-routes.ts';
import { wellKnownRoutes } from './http/routes/well-known-routes.ts';
import { Problem } from './http/schemas.ts';
import { createServerMetrics } from './metrics/server-metrics.ts';
import { openResources, type ResourceOverrides } from './resources.ts';

/** Largest request body accepted (bytes); more is 413 `payload_too_large`. */
export const BODY_LIMIT = 16 * 1024;

export interface AuthServerOptions extends ResourceOverrides {
  clock?: Clock;
  /** Where the JSON log lines go. @default stdout */
  logStream?: DestinationStream;
}

/** Every route of the service, for registration and for the OpenAPI document. */
export function listRoutes(ctx: AppContext): RouteSpec[] {
  return [
    ...authRoutes(ctx),
    ...sessionRoutes(ctx),
    ...wellKnownRoutes(ctx),
    ...adminRoutes(ctx),
    ...opsRoutes(ctx),
  ];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Builds the auth service (not listening): use `app.inject()` in tests or `app.listen()`.
 * Store, users and keys come from `config` unless given in `options` (given ones are not closed
 * by `app.close()`).
 *
 * @example
 * const app = await buildAuthServer(loadConfig({ TESSERA_USERS: 'memory', PORT: '0' }));
 * const res = await app.inject({ method: 'GET', url: '/healthz' });
 */
export async function buildAuthServer(
  config: ServerConfig,
  options: AuthServerOptions = {},
): Promise<FastifyInstance> {
  const clock = options.clock ?? systemClock;
  const logger = pino(
    { level: config.logLevel, base: { service: 'tessera-auth' }, timestamp: pino.stdTimeFunctions.isoTime },
    options.logStream ?? pino.destination({ dest: 1, sync: false }),
  );
  const resources = await openResources(config, options, clock, logger);
  const { store } = resources.context;
  const countSessions =
    'stats' in store && typeof store.stats === 'function'
      ? async () => (store.stats as () => { sessions: number })().sessions
      : undefined;
  const ctx: AppContext = {
    config,
    clock,
    metrics: createServerMetrics(
      countSessions,
      resources.touches ? () => (resources.touches as { errors: number }).errors : undefined,
    ),
    // An unconfirmed revocation is held as long as an access token it concerns can live.
    revoked: createRecentRevocations(clock, config.accessTtlMs + 60_000),
    localAdminToken: randomBytes(32).toString('base64url'),
    ...resources.context,
  };

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
    return503OnClosing: false, // requests on open connections finish normally while closing (problem+json stays the only error form)
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT });
  app.removeContentTypeParser('text/plain');
  // An empty JSON body (a bodyless POST that still sends Content-Type: application/json, as
  // many fetch wrappers do) counts as no body; anything else goes to Fastify's safe parser.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (request, body, done) => {
      if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
      return parseJson(request, body.toString(), done);
    },
  );

  app.setErrorHandler((thrown, request, reply) => {
    const { error, unexpected } = toTesseraError(thrown);
    if (error.code === 'store_unavailable') ctx.metrics.storeErrors.inc();
    if (thrown instanceof ReplicaWaitTimeoutError) {
      // In force on the master but not yet on a replica: refuse these sessions here meanwhile;
      // the client's retry re-runs the (idempotent) revocation and waits again.
      ctx.revoked.hold(thrown.sessionIds);
      ctx.metrics.replicaWaitTimeouts.inc();
      request.log.warn(
        {
          reqId: request.id,
          sessions: thrown.sessionIds.length,
          acknowledged: thrown.acknowledged,
          required: thrown.required,
        },
        'revocation not confirmed by a replica in time: answered 503, kept in force locally',
      );
    }
    if (unexpected) request.log.error({ reqId: request.id, err: thrown }, 'unexpected error');
    return sendProblem(reply, error);
  });

  // While shutting down, answers in flight tell keep-alive clients to go, so close() can finish.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const latencyMs = Math.round(reply.elapsedTime * 100) / 100;
    ctx.metrics.requestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      latencyMs / 1000,
    );
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        latencyMs,
        ...(request.tesseraUser?.userId ? { userId: request.tesseraUser.userId } : {}),
        ...(request.tesseraUser?.sessionId ? { sessionId: request.tesseraUser.sessionId } : {}),
      },
      'request',
    );
  });
  app.addHook('onClose', async () => {
    await resources.close();
  });

  ctx.users.warmUp().catch(() => {});
  const routes = listRoutes(ctx);
  const document = buildOpenApiDocument(routes, Problem);
  registerRoutes(app, ctx, [...routes, openApiRoute(document)]);
  app.decorate('tessera', ctx);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's context (config, session service, users, metrics). */
    tessera: AppContext;
  }
}
