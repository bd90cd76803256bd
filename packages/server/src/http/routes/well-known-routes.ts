import type { AppContext } from '../context.ts';
import { defineRoute, type RouteSpec } from '../route-spec.ts';
import { Jwks, Metadata } from '../schemas.ts';

/** RFC 8414 authorization server metadata for this issuer. */
export function buildMetadata(ctx: AppContext): Record<string, unknown> {
  const base = ctx.config.issuer;
  return {
    issuer: base,
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/v1/login`,
    introspection_endpoint: `${base}/v1/introspect`,
    introspection_endpoint_auth_methods_supported: ['bearer'],
    revocation_endpoint: `${base}/v1/revoke`,
    revocation_endpoint_auth_methods_supported: ['bearer'],
    token_endpoint_auth_methods_supported: ['none'],
    grant_types_supported: ['password', 'refresh_token'],
    response_types_supported: [],
    scopes_supported: [],
    token_mode: ctx.config.tokenMode,
    access_token_signing_alg_values_supported: [ctx.config.signingAlg],
    // Tessera extension (RFC 8414 §2 allows more members): the access-token lifetime in seconds,
    // so a guard can refuse tokens whose exp − iat is longer (contract §3 "Token lifetime").
    ...(ctx.config.tokenMode === 'jwt' ? { access_token_ttl: Math.ceil(ctx.config.accessTtlMs / 1000) } : {}),
    service_documentation: `${base}/openapi.json`,
  };
}

/** GET /.well-known/jwks.json and /.well-known/oauth-authorization-server. */
export function wellKnownRoutes(ctx: AppContext): RouteSpec[] {
  const jwks = defineRoute({
    method: 'GET',
    url: '/.well-known/jwks.json',
    summary: 'Public signing keys (current, next and still-valid retired keys)',
    tag: 'discovery',
    auth: 'none',
    responses: { 200: { description: 'JWKS', schema: Jwks, media: 'application/jwk-set+json' } },
    errors: [],
    async handler(_request, reply) {
      const set = await ctx.keys.jwks();
      return reply
        .header('cache-control', 'public, max-age=300, stale-while-revalidate=60')
        .type('application/jwk-set+json')
        .send(JSON.stringify({ keys: set.keys.map((k) => ({ ...k, use: 'sig' })) }));
    },
  });

  const metadata = defineRoute({
    method: 'GET',
    url: '/.well-known/oauth-authorization-server',
    summary: 'RFC 8414 authorization server metadata',
    tag: 'discovery',
    auth: 'none',
    responses: { 200: { description: 'Metadata', schema: Metadata } },
    errors: [],
    async handler(_request, reply) {
      reply.header('cache-control', 'public, max-age=300');
      return buildMetadata(ctx);
    },
  });

  return [jwks, metadata] as RouteSpec[];
}
