import { defineRoute, type RouteSpec } from '../route-spec.ts';

/** GET /openapi.json: the document generated from the route specs. */
export function openApiRoute(document: Record<string, unknown>): RouteSpec {
  return defineRoute({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    tag: 'discovery',
    auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1 document', media: 'application/json' } },
    errors: [],
    hidden: true,
    async handler(_request, reply) {
      return reply.header('cache-control', 'public, max-age=300').send(document);
    },
  }) as RouteSpec;
}
