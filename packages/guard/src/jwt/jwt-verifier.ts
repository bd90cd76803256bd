import { type AccessTokenClaims, type SigningAlg, verifyAccessToken } from '@tessera/core';
import {
  InvalidTokenError,
  SessionRevokedError,
  StoreUnavailableError,
  TokenExpiredError,
} from '@tessera/core/internal';
import type { JWTVerifyGetKey } from 'jose';
import { ExpiringLru } from '../lib/lru.ts';
import type { GuardStats } from '../metrics.ts';
import type { GuardLogger, SessionLookup } from '../options.ts';
import type { Decision, Subject, Verifier } from '../types.ts';

/** A verification result as cached: the claims and the (frozen) answer that lets the request through. */
export interface VerifiedToken extends Subject {
  claims: AccessTokenClaims;
}

export interface JwtVerifierOptions {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms: SigningAlg[];
  cacheSize: number;
  /** Where the session is checked when the revocation set cannot vouch; `undefined` = none. */
  lookup: SessionLookup | undefined;
  failOpen: boolean;
  logger: GuardLogger;
  stats: GuardStats;
}

/** Freezes what is shared across requests, so no handler can change another request's principal. */
function toVerifiedToken(claims: AccessTokenClaims): VerifiedToken {
  const roles = Object.freeze([...claims.roles]);
  const frozenClaims = Object.freeze({ ...claims, roles }) as AccessTokenClaims;
  const principal = Object.freeze({ userId: claims.sub, sessionId: claims.sid, roles, claims: frozenClaims });
  return {
    claims: frozenClaims,
    sessionId: claims.sid,
    userId: claims.sub,
    issuedSec: claims.iat,
    suspectable: true,
    allowed: Object.freeze({ ok: true as const, principal }),
  };
}

/**
 * JWT mode: a cache of verification results keyed by the token's hash (never longer than
 * `exp`, never a revocation decision); a miss costs one `jwtVerify` (JWKS, algorithm
 * allow-list, `iss`, `aud`). When the revocation set cannot vouch, the session is looked up.
 */
export class JwtVerifier implements Verifier<VerifiedToken> {
  readonly countsCache = true;
  private readonly cache: ExpiringLru<VerifiedToken>;

  constructor(private readonly options: JwtVerifierOptions) {
    this.cache = new ExpiringLru(Math.floor(options.cacheSize));
  }

  cached(key: string, now: number): VerifiedToken | undefined {
    return this.cache.get(key, now);
  }

  /** One `jwtVerify` for a token not in the cache; a success is cached until the token's `exp`. */
  async verify(token: string, key: string, now: number) {
    const { options } = this;
    const result = await verifyAccessToken(token, options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: options.algorithms,
      now,
    });
    if (!result.ok) {
      return result.reason === 'expired'
        ? new TokenExpiredError('the access token has expired')
        : new InvalidTokenError('the access token is not valid');
    }
    const subject = toVerifiedToken(result.claims);
    const expiresAt = result.claims.exp * 1000;
    if (expiresAt > now) this.cache.set(key, subject, expiresAt);
    return { subject, fresh: false };
  }

  /**
   * Asks the store whether the token's session is still live (exists, same user, not expired,
   * not being revoked). Store unreachable: 503 `store_unavailable` (fail closed), or, with
   * fail-open, a pass that is counted and logged.
   */
  async confirm(token: VerifiedToken, now: number): Promise<Decision> {
    const { claims } = token;
    const { options } = this;
    if (options.lookup === undefined) throw new StoreUnavailableError('no session store');
    options.stats.storeChecks += 1;
    let session: Awaited<ReturnType<SessionLookup['getSession']>>;
    try {
      session = await options.lookup.getSession(claims.sid);
    } catch {
      if (!options.failOpen)
        return { ok: false, error: new StoreUnavailableError('the session store is unavailable') };
      options.stats.failOpen += 1;
      options.logger.warn(
        { event: 'tessera_guard_fail_open', userId: claims.sub, sessionId: claims.sid },
        'session store and revocation feed unavailable: request let through (TESSERA_FAIL_OPEN=true)',
      );
      return { ok: true, principal: token.allowed.principal, failOpen: true };
    }
    if (session === null || session.userId !== claims.sub || session.expiresAt <= now) {
      return { ok: false, error: new SessionRevokedError('the session has been revoked') };
    }
    return token.allowed;
  }
}
