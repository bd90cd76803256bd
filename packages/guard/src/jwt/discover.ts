import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';

/** What the guard needs from the auth service's RFC 8414 metadata. */
export interface AuthMetadata {
  issuer: string;
  jwksUri: string;
  /** `access_token_ttl` (seconds, a Tessera extension of RFC 8414), as ms; `undefined` if absent. */
  accessTtlMs: number | undefined;
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
  const {
    issuer,
    jwks_uri: jwksUri,
    access_token_ttl: ttl,
  } = (body ?? {}) as { issuer?: unknown; jwks_uri?: unknown; access_token_ttl?: unknown };
  if (typeof issuer !== 'string' || typeof jwksUri !== 'string') {
    throw new Error(`the auth service metadata at ${url} lacks issuer or jwks_uri`);
  }
  const accessTtlMs = typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? ttl * 1000 : undefined;
  return { issuer, jwksUri, accessTtlMs };
}

/**
 * The auth service's JWKS, cached by jose. An unknown `kid` triggers a refetch, at most once
 * per `cooldownMs`, so garbage `kid`s cannot flood the auth service. A token whose `kid` is
 * unknown while the cooldown runs (a rotation just after the last fetch) waits for the
 * cooldown to end and is retried once, so a new key is accepted at once, not refused for
 * up to `cooldownMs`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function createJwks(jwksUri: string, cooldownMs: number): Jwks {
  const remote = createRemoteJWKSet(new URL(jwksUri), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 3000,
  });
  const resolve: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !remote.coolingDown) throw error;
      const deadline = Date.now() + cooldownMs;
      while (remote.coolingDown && Date.now() < deadline) await delay(Math.min(50, cooldownMs));
      return remote(header, token);
    }
  };
  // A revoked key (feed entry) refetches the JWKS at once, so the key leaves this cache too.
  return Object.assign(resolve, { reload: () => remote.reload() });
}

/** The auth service's JWKS as the guard fetches it, with `reload()` (refetch now). */
export type Jwks = JWTVerifyGetKey & { reload: () => Promise<void> };

/** `keys.reload()` when the key resolver has one (the fetched JWKS; not pinned keys). */
export function reloadKeys(keys: JWTVerifyGetKey | undefined): Promise<void> {
  const reload = (keys as Partial<Jwks> | undefined)?.reload;
  return typeof reload === 'function' ? reload() : Promise.resolve();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Completes what the options left open: the expected issuer (from the metadata) and the key
 * resolver (the metadata's `jwks_uri`). Without metadata, a configured issuer still works
 * with `<authUrl>/.well-known/jwks.json`.
 */
export async function discoverVerification(
  authUrl: string,
  known: { issuer: string | undefined; keys: JWTVerifyGetKey | undefined },
  cooldownMs: number,
): Promise<{ issuer: string; keys: JWTVerifyGetKey; accessTtlMs: number | undefined }> {
  try {
    const metadata = await fetchAuthMetadata(authUrl);
    return {
      issuer: known.issuer ?? metadata.issuer,
      keys: known.keys ?? createJwks(metadata.jwksUri, cooldownMs),
      accessTtlMs: metadata.accessTtlMs,
    };
  } catch (error) {
    if (known.issuer === undefined) throw error;
    return {
      issuer: known.issuer,
      keys: known.keys ?? createJwks(`${authUrl}/.well-known/jwks.json`, cooldownMs),
      accessTtlMs: undefined,
    };
  }
}
