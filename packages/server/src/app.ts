import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { type Clock, systemClock, toErrorResponse } from '@tessera/core';
import { InvalidRequestError, ReplicaWaitTimeoutError } from '@tessera/core/internal';
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
import { pageRoutes } from './pages/page-routes.ts';
import { createSessionEventsSource } from './pages/session-events-source.ts';
import { openResources, type ResourceOverrides } from './resources.ts';
import { openSsf } from './ssf/open-ssf.ts';
import { revokeEverySessionOf } from './ssf/revoke-user.ts';
import { ssfAdminRoutes } from './ssf/ssf-admin-routes.ts';
import { registerSsfHttp, ssfDeliveryRoutes } from './ssf/ssf-delivery-routes.ts';
import { ssfRoutes } from './ssf/ssf-routes.ts';

/**
 * What Fastify needs for `TESSERA_TRUST_PROXY`. Fastify 5 ignores a numeric hop count (it
 * trusts nothing, since a count cannot check the peer), so a count becomes a function that
 * trusts exactly that many hops counted from the socket: `1` = the nearest proxy's entry.
 */
function fastifyTrustProxy(
  trust: ServerConfig['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

/** Statuses for the errors Node's HTTP parser reports on a connection (`clientError`). */
const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * Fastify's `clientErrorHandler`: a problem+json answer (then the connection is closed) for a
 * request the HTTP parser refused, instead of Fastify's own `{"error":"Bad Request"}` JSON.
 */
function writeClientErrorProblem(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = (error.code !== undefined && CLIENT_ERROR_STATUS[error.code]) || 400;
  const problem = toErrorResponse(new InvalidRequestError('The request could not be parsed as HTTP'));
  const body = JSON.stringify({ ...problem.body, status });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}

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
    ...ssfRoutes(ctx),
    ...ssfDeliveryRoutes(ctx),
    ...ssfAdminRoutes(ctx),
    ...pageRoutes(ctx),
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
  const metrics = createServerMetrics(
    countSessions,
    resources.touches ? () => (resources.touches as { errors: number }).errors : undefined,
  );
  const ssf = await openSsf({
    config,
    sessionStore: store,
    storeFromConfig: options.store === undefined,
    keys: resources.context.keys,
    now: () => clock.now(),
    registry: metrics.registry,
    revokeUser: (username) => revokeEverySessionOf(ctx, username),
    warn: (fields, message) => logger.warn(fields, message),
  }).catch(async (error: unknown) => {
    await resources.close();
    throw error;
  });
  const ctx: AppContext = {
    config,
    clock,
    metrics,
    // An unconfirmed revocation is held as long as an access token it concerns can live.
    revoked: createRecentRevocations(clock, config.accessTtlMs + 60_000),
    csrfOrigins: [new URL(config.issuer).origin, ...config.allowedOrigins],
    localAdminToken: randomBytes(32).toString('base64url'),
    ssf,
    sessionEvents: createSessionEventsSource({ store, clock }),
    ...resources.context,
  };

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    // Slow clients (one byte a second): Node checks these every connectionsCheckingInterval.
    serverFactory: (handler) =>
      createServer(
        {
          headersTimeout: config.headersTimeoutMs,
          requestTimeout: config.requestTimeoutMs,
          connectionsCheckingInterval: Math.max(100, Math.min(1000, config.headersTimeoutMs)),
        },
        handler,
      ),
    // Errors Fastify raises before routing (a malformed URL such as /v1/sessions/%zz) go
    // through the same problem+json path as every other error; their text echoes the URL.
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, toTesseraError(error).error);
    },
    // Requests Node's HTTP parser refuses (a bad header byte, an oversized header block, a
    // slow client past its timeout) never reach Fastify's router: answer them as problem+json
    // too, with a fixed text that echoes nothing of the request.
    clientErrorHandler: writeClientErrorProblem,
    return503OnClosing: false, // requests on open connections finish normally while closing (problem+json stays the only error form)
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // No per-request child logger (a pino child per request was ~2% of a /v1/authorize
    // answer's CPU): the two request-scoped lines below name `reqId` themselves.
    childLoggerFactory: (parent) => parent,
  });
  app.decorateRequest('tesseraUser', null);
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT });
  registerSsfHttp(app, ctx, BODY_LIMIT);
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
    ctx.sessionEvents.close(); // open event streams end, so close() does not wait for them
  });
  // Callback hooks, not async ones: no promise per request on the hot path (/v1/authorize).
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // ASVS 5.0 3.4.4: no response is content-sniffed (a JSON answer is never run as HTML or script).
    reply.header('x-content-type-options', 'nosniff');
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const latencyMs = Math.round(reply.elapsedTime * 100) / 100;
    const status = reply.statusCode;
    ctx.metrics.requestDuration.observe(
      { method: request.method, route, status: String(status) },
      latencyMs / 1000,
    );
    // A gateway asks /v1/authorize before every request it forwards: its successful answers
    // are logged at debug (the gateway's access log has them; the histogram counts them), so
    // info logs keep every refusal and every other request without a line per forwarded request.
    const level = status < 300 && route.startsWith('/v1/authorize') ? 'debug' : 'info';
    if (logger.isLevelEnabled(level)) {
      request.log[level](
        {
          reqId: request.id,
          method: request.method,
          route,
          status,
          latencyMs,
          ...(request.tesseraUser?.userId ? { userId: request.tesseraUser.userId } : {}),
          ...(request.tesseraUser?.sessionId ? { sessionId: request.tesseraUser.sessionId } : {}),
        },
        'request',
      );
    }
    done();
  });
  app.addHook('onClose', async () => {
    await ctx.ssf.close();
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
