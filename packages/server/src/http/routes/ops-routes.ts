import type { AppContext } from '../context.ts';
import { defineRoute, type RouteSpec } from '../route-spec.ts';
import { Health, Problem } from '../schemas.ts';

/** GET /healthz, /readyz, /metrics. */
export function opsRoutes(ctx: AppContext): RouteSpec[] {
  const healthz = defineRoute({
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness: the process answers',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'Alive', schema: Health } },
    errors: [],
    async handler() {
      return { status: 'ok' };
    },
  });

  const readyz = defineRoute({
    method: 'GET',
    url: '/readyz',
    summary: 'Readiness: the session store answers',
    tag: 'operations',
    auth: 'none',
    responses: {
      200: { description: 'Ready', schema: Health },
      503: { description: 'store_unavailable', schema: Problem, media: 'application/problem+json' },
    },
    errors: ['store_unavailable'],
    async handler(_request, reply) {
      await ctx.store.ping();
      reply.header('cache-control', 'no-store');
      return { status: 'ready' };
    },
  });

  const metrics = defineRoute({
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics (text exposition format)',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'Metrics', media: 'text/plain' } },
    errors: [],
    async handler(_request, reply) {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  });

  return [healthz, readyz, metrics] as RouteSpec[];
}
