import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';

/** What the guard needs from the auth service's RFC 8414 metadata. */
export interface AuthMetadata {
  issuer: string;
  jwksUri: string;
}

/**
 * Reads `issuer` and `jwks_uri` from `<authUrl>/.well-known/oauth-authorization-server`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export async function fetchAuthMetadata(authUrl: string, timeoutMs = 3000): Promise<AuthMetadata> {
  const url = `${authUrl}/.well-known/oauth-authorization-server`;
  let body: unknown;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`status ${response.status}`);
    body = await response.json();
  } catch (error) {
    throw new Error(`could not read the auth service metadata at ${url}`, { cause: error });
  }
  const { issuer, jwks_uri: jwksUri } = (body ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  if (typeof issuer !== 'string' || typeof jwksUri !== 'string') {
    throw new Error(`the auth service metadata at ${url} lacks issuer or jwks_uri`);
  }
  return { issuer, jwksUri };
}

/**
 * The auth service's JWKS, cached by jose: an unknown `kid` triggers a refetch, at most once
 * per `cooldownMs` (so rotation works without restarts, and garbage `kid`s cannot flood it).
 */
export function createJwks(jwksUri: string, cooldownMs: number): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUri), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 3000,
  });
}
