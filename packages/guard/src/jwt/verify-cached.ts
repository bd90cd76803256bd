import { type AccessTokenClaims, hashToken, type SigningAlg, verifyAccessToken } from '@tessera/core';
import type { JWTVerifyGetKey } from 'jose';
import type { ExpiringLru } from '../lib/lru.ts';
import type { Principal } from '../types.ts';

/** A verification result as cached: the claims and the (frozen) answer that lets the request through. */
export interface VerifiedToken {
  claims: AccessTokenClaims;
  /** The key that signed it: a revoked kid refuses the cached token too. */
  kid: string;
  allowed: { readonly ok: true; readonly principal: Principal };
}

/** Cache key of a token: its SHA-256 (base64url, core's `hashToken`), so no token string sits in a map. */
export const tokenCacheKey: (token: string) => string = hashToken;

export interface VerifyContext {
  cache: ExpiringLru<VerifiedToken>;
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms: SigningAlg[];
  /** The auth service's access TTL (ms): longer-lived tokens are refused (contract §3). */
  maxLifetimeMs: number | undefined;
  now: number;
}

/** Freezes what is shared across requests, so no handler can change another request's principal. */
export function toVerifiedToken(claims: AccessTokenClaims, kid: string): VerifiedToken {
  const roles = Object.freeze([...claims.roles]);
  const frozenClaims = Object.freeze({ ...claims, roles }) as AccessTokenClaims;
  const principal = Object.freeze({ userId: claims.sub, sessionId: claims.sid, roles, claims: frozenClaims });
  return { claims: frozenClaims, kid, allowed: Object.freeze({ ok: true as const, principal }) };
}

/**
 * One `jwtVerify` for a token not in the cache; a success is cached until the token's `exp`
 * (never longer). The cache holds verification results only, never a revocation decision.
 */
export async function verifyAndCache(
  token: string,
  cacheKey: string,
  context: VerifyContext,
): Promise<VerifiedToken | 'expired' | 'invalid'> {
  const result = await verifyAccessToken(token, context.keys, {
    issuer: context.issuer,
    audience: context.audience,
    algorithms: context.algorithms,
    now: context.now,
    ...(context.maxLifetimeMs === undefined ? {} : { maxLifetimeMs: context.maxLifetimeMs }),
  });
  if (!result.ok) return result.reason;
  const verified = toVerifiedToken(result.claims, result.kid);
  const expiresAt = result.claims.exp * 1000;
  if (expiresAt > context.now) context.cache.set(cacheKey, verified, expiresAt);
  return verified;
}
