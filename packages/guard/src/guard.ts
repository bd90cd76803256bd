import {
  createRedisStore,
  InvalidTokenError,
  MAX_TOKEN_LENGTH,
  type RedisClient,
  revocationStreamKey,
  SessionRevokedError,
  StoreUnavailableError,
  TokenExpiredError,
} from '@tessera/core';
import type { JWTVerifyGetKey } from 'jose';
import { ACCESS_COOKIE, credentialFrom, SESSION_COOKIE } from './credential.ts';
import { RevocationFeed } from './feed/revocation-feed.ts';
import { RevocationSet } from './feed/revocation-set.ts';
import { checkSessionInStore } from './jwt/check-session.ts';
import { discoverVerification } from './jwt/discover.ts';
import { tokenCacheKey, type VerifiedToken, verifyAndCache } from './jwt/verify-cached.ts';
import { ExpiringLru } from './lib/lru.ts';
import { openClient, waitUntilReady } from './lib/redis-ready.ts';
import { GuardMetrics, type GuardStats } from './metrics.ts';
import {
  type CachedSession,
  lookupOpaque,
  type OpaqueContext,
  type TouchPolicy,
  touchThrottled,
} from './opaque.ts';
import { type GuardOptions, type ResolvedOptions, resolveOptions, type SessionLookup } from './options.ts';
import type { AuthError, AuthResult, Decision, FeedStatus, HeaderSource } from './types.ts';

/** Clock tolerance (ms) added to every revocation's keep time; matches token verification. */
const TOLERANCE_MS = 10_000;

/** A guard: authenticates credentials and keeps the revocation set current. */
export interface Guard {
  /** Connects to Redis, reads the auth service metadata and JWKS location, loads the revocation set. */
  ready(): Promise<void>;
  /** Verifies one credential. Never throws; a refused credential is `{ ok: false, error }`. */
  authenticate(credential: string | undefined): Promise<AuthResult>;
  /**
   * The same decision without a promise when it needs no I/O (a cached token or lookup,
   * decided against the revocation set; a missing or oversized credential); `undefined`
   * when only {@link authenticate} can decide (first sight, Redis check, not ready). Each
   * call is counted once: an `undefined` answer counts nothing, so follow it with
   * `authenticate`. Never throws.
   */
  authenticateCached(credential: string | undefined): AuthResult | undefined;
  /** The credential of a request (bearer header, else the mode's cookie). */
  credentialFrom(headers: HeaderSource): string | undefined;
  /** Counters (decisions, cache, fail-open, store checks). */
  readonly stats: GuardStats;
  /** Feed state; `undefined` without a feed (request mode). */
  feedStatus(): FeedStatus | undefined;
  close(): Promise<void>;
}

const refuse = (error: AuthError): AuthResult => ({ ok: false, error });
const malformed = () => new InvalidTokenError('missing or malformed credential');
const isWellFormed = (credential: string | undefined): credential is string =>
  typeof credential === 'string' && credential.length > 0 && credential.length <= MAX_TOKEN_LENGTH;

class TesseraGuard implements Guard {
  readonly stats: GuardStats;
  private readonly metrics = new GuardMetrics();
  private readonly cache: ExpiringLru<VerifiedToken>;
  private readonly set = new RevocationSet(TOLERANCE_MS);
  private readonly lastTouch = new ExpiringLru<number>(100_000);
  /** Opaque mode with a feed: session lookups, keyed by the token's hash. */
  private readonly sessions: ExpiringLru<CachedSession>;
  private readonly cookieName: string;
  private client: RedisClient | undefined;
  private ownsClient = false;
  private store: SessionLookup | undefined;
  private feed: RevocationFeed | undefined;
  private keys: JWTVerifyGetKey | undefined;
  private issuer: string | undefined;
  private started: Promise<void> | undefined;
  private isReady = false;
  private metricsAttached = false;
  private touch: TouchPolicy | undefined;

  constructor(private readonly options: ResolvedOptions) {
    this.stats = this.metrics.stats;
    this.cache = new ExpiringLru(Math.floor(options.cacheSize));
    this.sessions = new ExpiringLru(Math.floor(options.cacheSize));
    this.cookieName = options.tokenMode === 'jwt' ? ACCESS_COOKIE : SESSION_COOKIE;
    this.store = options.store;
    this.keys = options.keys;
    this.issuer = options.issuer;
  }

  ready(): Promise<void> {
    this.started ??= this.start().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  credentialFrom(headers: HeaderSource): string | undefined {
    return credentialFrom(headers, this.cookieName);
  }

  authenticateCached(credential: string | undefined): AuthResult | undefined {
    if (!isWellFormed(credential)) return this.decide(refuse(malformed()));
    if (!this.isReady) return undefined;
    return this.decideFromCache(tokenCacheKey(credential), this.options.clock.now());
  }

  authenticate(credential: string | undefined): Promise<AuthResult> {
    if (!isWellFormed(credential)) return Promise.resolve(this.decide(refuse(malformed())));
    if (!this.isReady) return this.settle(this.authenticateSlowly(credential));
    const now = this.options.clock.now();
    const key = tokenCacheKey(credential);
    const decided = this.decideFromCache(key, now);
    if (decided !== undefined) return Promise.resolve(decided);
    if (this.options.tokenMode === 'jwt') {
      const cached = this.cache.get(key, now);
      if (cached === undefined) return this.settle(this.verifyThenCheck(credential, key, now));
      // Cached, but the set cannot decide (no feed, feed not current, suspect token): ask Redis.
      this.stats.cacheHits += 1;
      return this.settle(this.checkInStore(cached, now));
    }
    if (this.feed !== undefined) {
      // Opaque mode, feed: no usable cached lookup (absent, expired, or the feed not current).
      if (this.sessions.get(key, now) === undefined) this.stats.cacheMisses += 1;
      else this.stats.cacheHits += 1;
    }
    return this.settle(lookupOpaque(credential, this.opaqueContext(now, key)));
  }

  /**
   * Hot path, synchronous: cache lookup by the token's hash, then the revocation set (two
   * map lookups). The decision (counted), or `undefined` (nothing counted) when I/O is needed.
   */
  private decideFromCache(key: string, now: number): AuthResult | undefined {
    if (this.options.tokenMode === 'jwt') {
      const cached = this.cache.get(key, now);
      if (cached === undefined) return undefined;
      const decided = this.checkRevocationSet(cached, now);
      if (decided === undefined) return undefined;
      this.stats.cacheHits += 1;
      return this.decide(decided);
    }
    const feed = this.feed;
    if (feed === undefined) return undefined;
    // Opaque mode, feed: a cached lookup, re-decided against the revocation set each time.
    const cached = this.sessions.get(key, now);
    if (cached === undefined) return undefined;
    if (this.set.isRevoked(cached.sessionId, cached.userId, cached.createdSec, now)) {
      this.stats.cacheHits += 1;
      return this.decide(refuse(new SessionRevokedError('the session has been revoked')));
    }
    if (cached.expiresAt > now && feed.isCurrent(now, this.options.feedMaxLagMs)) {
      this.stats.cacheHits += 1;
      touchThrottled(cached.sessionId, this.requireStore(), this.touchPolicy(), now);
      return this.decide(cached.allowed);
    }
    return undefined;
  }

  feedStatus(): FeedStatus | undefined {
    const feed = this.feed;
    if (feed === undefined) return undefined;
    const now = this.options.clock.now();
    return {
      current: feed.isCurrent(now, this.options.feedMaxLagMs),
      lastId: feed.lastId,
      lagMs: now - feed.lastReadAt,
      reloads: feed.reloads,
    };
  }

  async close(): Promise<void> {
    await this.started?.catch(() => {});
    await this.feed?.close();
    if (this.ownsClient) this.client?.disconnect();
  }

  private async start(): Promise<void> {
    const { options } = this;
    if (options.registry && !this.metricsAttached) {
      this.metricsAttached = true;
      await this.metrics.attach(options.registry, () => {
        const status = this.feedStatus();
        return status === undefined ? -1 : status.lagMs / 1000;
      });
    }
    if (options.tokenMode === 'jwt' && (this.keys === undefined || this.issuer === undefined)) {
      const known = { issuer: this.issuer, keys: this.keys };
      ({ issuer: this.issuer, keys: this.keys } = await discoverVerification(
        options.authUrl as string,
        known,
        options.jwksCooldownMs,
      ));
    }
    if (this.client === undefined && options.redis !== null) {
      ({ client: this.client, owned: this.ownsClient } = openClient(options.redis));
    }
    if (this.client !== undefined) await waitUntilReady(this.client, options.connectTimeoutMs);
    if (this.store === undefined && this.client !== undefined) {
      this.store = createRedisStore({
        client: this.client,
        keyPrefix: options.keyPrefix,
        revocationRetentionMs: 3_600_000, // unused: the guard only reads sessions, never revokes
        ownsClient: false,
        // The guard's Redis user cannot write sessions: touches go to the queue the auth service applies.
        touch: 'queue',
        onTouchError: (error) => {
          this.stats.touchFailures += 1;
          const refused = /NOPERM|no permissions|can't/i.test(String(error));
          options.logger?.warn({ refused }, 'session touch failed; the session may idle out early');
        },
      });
    }
    if (options.revocationCheck === 'feed' && this.client !== undefined) {
      const opaque = options.tokenMode === 'opaque';
      this.feed ??= new RevocationFeed({
        client: this.client,
        streamKey: revocationStreamKey(options.keyPrefix),
        set: this.set,
        clock: options.clock,
        // Opaque revocations carry until ≈ now; remember them as long as a cached lookup lives.
        minRetentionMs: opaque ? options.opaqueCacheMs + 1000 : 0,
        onReload: () => this.sessions.clear(),
        connectTimeoutMs: options.connectTimeoutMs,
      });
      await this.feed.start();
    }
    this.isReady = true;
  }

  private async authenticateSlowly(credential: string): Promise<Decision> {
    if (!this.isReady) {
      // Someone skipped `await guard.ready()`: start now, but never hold a request for long.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error('not ready')), 2000);
      });
      try {
        await Promise.race([this.ready(), late]);
      } catch {
        return refuse(new StoreUnavailableError('the guard is not ready'));
      } finally {
        clearTimeout(timer);
      }
    }
    const now = this.options.clock.now();
    const key = tokenCacheKey(credential);
    if (this.options.tokenMode === 'opaque') return lookupOpaque(credential, this.opaqueContext(now, key));
    const cached = this.cache.get(key, now);
    if (cached === undefined) return this.verifyThenCheck(credential, key, now);
    this.stats.cacheHits += 1;
    return this.checkRevocationSet(cached, now) ?? this.checkInStore(cached, now);
  }

  private async verifyThenCheck(token: string, key: string, now: number): Promise<Decision> {
    this.stats.cacheMisses += 1;
    const verified = await verifyAndCache(token, key, {
      cache: this.cache,
      keys: this.keys as JWTVerifyGetKey,
      issuer: this.issuer as string,
      audience: this.options.audience,
      algorithms: this.options.algorithms,
      now,
    });
    if (verified === 'expired') return refuse(new TokenExpiredError('the access token has expired'));
    if (verified === 'invalid') return refuse(new InvalidTokenError('the access token is not valid'));
    return this.checkRevocationSet(verified, now) ?? this.checkInStore(verified, now);
  }

  /**
   * The decision from the local revocation set, or `undefined` when Redis must be asked: no
   * feed (request mode), the feed is not current, or the token is suspect (issued before a
   * reload that may have lost revocations).
   */
  private checkRevocationSet(token: VerifiedToken, now: number): AuthResult | undefined {
    const feed = this.feed;
    if (feed === undefined) return undefined;
    const { claims } = token;
    if (this.set.isRevoked(claims.sid, claims.sub, claims.iat, now)) {
      return refuse(new SessionRevokedError('the session has been revoked'));
    }
    const suspect = feed.suspectBefore > 0 && claims.iat <= Math.floor(feed.suspectBefore / 1000);
    if (!suspect && feed.isCurrent(now, this.options.feedMaxLagMs)) return token.allowed;
    return undefined;
  }

  private async settle(decision: Promise<Decision>): Promise<AuthResult> {
    try {
      return this.decide(await decision);
    } catch {
      return this.decide(refuse(new InvalidTokenError('the credential could not be verified')));
    }
  }

  private checkInStore(token: VerifiedToken, now: number): Promise<Decision> {
    const { failOpen, logger } = this.options;
    return checkSessionInStore(token, {
      store: this.requireStore(),
      stats: this.stats,
      failOpen,
      logger,
      now,
    });
  }

  private requireStore(): SessionLookup {
    if (this.store === undefined) throw new StoreUnavailableError('no session store');
    return this.store;
  }

  private touchPolicy(): TouchPolicy {
    this.touch ??= {
      idleMs: this.options.idleTimeoutMs,
      minIntervalMs: Math.max(1, Math.floor(this.options.idleTimeoutMs / 20)),
      lastTouch: this.lastTouch,
    };
    return this.touch;
  }

  private opaqueContext(now: number, key: string): OpaqueContext {
    const context: OpaqueContext = {
      store: this.requireStore(),
      touch: this.touchPolicy(),
      stats: this.stats,
      now,
    };
    if (this.feed !== undefined) {
      context.cache = { set: this.set, sessions: this.sessions, key, cacheMs: this.options.opaqueCacheMs };
    }
    return context;
  }

  private decide(result: Decision): AuthResult {
    if (!result.ok) {
      this.metrics.decide(result.error.code);
      return result;
    }
    if ('failOpen' in result) {
      this.metrics.decide('allowed_fail_open');
      return { ok: true, principal: result.principal };
    }
    this.metrics.decide('allowed');
    return result;
  }
}

/**
 * Creates a guard. Options default from the environment (contract §2) and are validated
 * here, once: a misconfiguration throws `TypeError` at setup, never per request.
 *
 * @example
 * ```ts
 * const guard = createGuard({ authUrl: 'http://127.0.0.1:4000', redis: { kind: 'single', url: 'redis://127.0.0.1:6379' } });
 * await guard.ready();
 * const result = await guard.authenticate(guard.credentialFrom(request.headers));
 * if (result.ok) console.log(result.principal.userId);
 * ```
 */
export function createGuard(options: GuardOptions = {}): Guard {
  return new TesseraGuard(resolveOptions(options));
}
