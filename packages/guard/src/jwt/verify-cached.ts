import { type AccessTokenClaims, type SigningAlg, verifyAccessToken } from '@tessera/core';
import type { JWTVerifyGetKey } from 'jose';
import type { ExpiringLru } from '../lib/lru.ts';
import type { GuardStats } from '../metrics.ts';

export interface VerifyContext {
  cache: ExpiringLru<AccessTokenClaims>;
  stats: GuardStats;
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms: SigningAlg[];
  now: number;
}

/**
 * The token's verified claims, from the cache (a hash and a map lookup) or from one
 * `jwtVerify`. A cached result never outlives the token's `exp`. The cache holds
 * verification results only, never a revocation decision.
 */
export async function verifyWithCache(
  token: string,
  cacheKey: string,
  context: VerifyContext,
): Promise<AccessTokenClaims | 'expired' | 'invalid'> {
  const cached = context.cache.get(cacheKey, context.now);
  if (cached !== undefined) {
    context.stats.cacheHits += 1;
    return cached;
  }
  context.stats.cacheMisses += 1;
  const result = await verifyAccessToken(token, context.keys, {
    issuer: context.issuer,
    audience: context.audience,
    algorithms: context.algorithms,
    now: context.now,
  });
  if (!result.ok) return result.reason;
  const expiresAt = result.claims.exp * 1000;
  if (expiresAt > context.now) context.cache.set(cacheKey, result.claims, expiresAt);
  return result.claims;
}
