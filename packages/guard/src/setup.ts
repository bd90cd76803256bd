import { openRedisSessionReader, type SessionReader } from '@tessera/core';
import type { JWTVerifyGetKey } from 'jose';
import { discoverVerification, reloadKeys } from './jwt/discover.ts';
import { JwtVerifier } from './jwt/jwt-verifier.ts';
import type { GuardStats } from './metrics.ts';
import { OpaqueVerifier } from './opaque/opaque-verifier.ts';
import type { ResolvedOptions } from './options.ts';
import { Revocations } from './revocation/revocations.ts';
import type { Verifier } from './types.ts';

/** What `ready()` assembles: the verifier of the token mode, the revocation check, the store view. */
export interface GuardParts {
  verifier: Verifier;
  revocations: Revocations;
  reader: SessionReader | undefined;
}

/** Verification settings found at setup and kept across `ready()` retries. */
interface Known {
  issuer: string | undefined;
  keys: JWTVerifyGetKey | undefined;
  /** Longest accepted `exp − iat` (ms): options/env, else the metadata's `access_token_ttl`. */
  accessTtlMs: number | undefined;
}

/** The auth service's default `TESSERA_ACCESS_TTL`, when neither options nor metadata say. */
const DEFAULT_ACCESS_TTL_MS = 600_000;

/**
 * Connects what the guard needs, in order: the auth service's metadata and JWKS location
 * (jwt mode, unless given), the store's read-only view on Redis, then the revocation feed
 * (loaded from the stream's start before this resolves). Nothing here runs per request.
 */
export async function assembleGuard(
  options: ResolvedOptions,
  known: Known,
  stats: GuardStats,
): Promise<GuardParts> {
  if (
    options.tokenMode === 'jwt' &&
    (known.keys === undefined ||
      known.issuer === undefined ||
      (known.accessTtlMs === undefined && options.authUrl !== undefined))
  ) {
    const found = await discoverVerification(options.authUrl as string, known, options.jwksCooldownMs);
    known.issuer = found.issuer;
    known.keys = found.keys;
    known.accessTtlMs ??= found.accessTtlMs;
  }
  const reader =
    options.redis === null
      ? undefined
      : await openRedisSessionReader({
          redis: options.redis,
          keyPrefix: options.keyPrefix,
          connectTimeoutMs: options.connectTimeoutMs,
        });
  const lookup = options.store ?? reader;
  const feed = options.revocationCheck === 'feed' && reader !== undefined;
  let verifier: Verifier;
  let onLoss = () => {};
  if (options.tokenMode === 'jwt') {
    verifier = new JwtVerifier({
      keys: known.keys as JWTVerifyGetKey,
      issuer: known.issuer as string,
      audience: options.audience,
      algorithms: options.algorithms,
      maxLifetimeMs: known.accessTtlMs ?? DEFAULT_ACCESS_TTL_MS,
      cacheSize: options.cacheSize,
      lookup,
      failOpen: options.failOpen,
      logger: options.logger,
      stats,
    });
  } else {
    if (lookup === undefined) throw new TypeError('opaque mode needs the session store');
    const opaque = new OpaqueVerifier({
      lookup,
      stats,
      cacheSize: options.cacheSize,
      cacheMs: feed ? options.opaqueCacheMs : undefined,
      idleMs: options.idleTimeoutMs,
      logger: options.logger,
    });
    onLoss = () => opaque.clear();
    verifier = opaque;
  }
  const revocations = new Revocations({
    clock: options.clock,
    maxLagMs: options.feedMaxLagMs,
    // Opaque revocations carry until ≈ now; remember them as long as a cached lookup lives.
    minRetentionMs: options.tokenMode === 'opaque' ? options.opaqueCacheMs + 1000 : 0,
    connectTimeoutMs: options.connectTimeoutMs,
    onLoss,
    // A revoked signing key leaves the JWKS cache at once (its tokens are refused meanwhile).
    onKeyRevoked: () => {
      reloadKeys(known.keys).catch(() => {});
    },
  });
  try {
    if (feed) await revocations.follow(reader);
  } catch (error) {
    await reader?.close();
    throw error;
  }
  return { verifier, revocations, reader };
}
