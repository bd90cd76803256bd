import {
  CSRF_HEADER,
  CsrfError,
  hashToken,
  hasTwoAuthorizations,
  InvalidTokenError,
  isUnsafeMethod,
  MAX_TOKEN_LENGTH,
  passesCsrfRule,
  SessionRevokedError,
  StoreUnavailableError,
} from '@tessera/core/internal';
import { readCookie } from './lib/cookies.ts';
import { type GuardStats, newGuardStats, registerGuardMetrics } from './metrics.ts';
import { type GuardOptions, type ResolvedOptions, resolveOptions } from './options.ts';
import { assembleGuard, type GuardParts } from './setup.ts';
import type {
  AuthError,
  AuthResult,
  Decision,
  FeedStatus,
  HeaderSource,
  RequestResult,
  Subject,
} from './types.ts';

export type { HeaderSource };

// ── Stage 1: the credential ───────────────────────────────────────────────────────────────

/** Longest `Authorization` or `Cookie` header looked at; longer ones are treated as no credential. */
export const MAX_CREDENTIAL_HEADER_LENGTH = 16 * 1024;

export const ACCESS_COOKIE = 'tessera_access';
export const SESSION_COOKIE = 'tessera_session';

function readHeader(headers: HeaderSource, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  if (value === null || value === undefined) return undefined;
  return Array.isArray(value) ? value.join('; ') : value;
}

/**
 * The request's credential: `Authorization: Bearer <token>` (RFC 6750 §2.1), else the cookie
 * `cookieName` (`tessera_access` in jwt mode, `tessera_session` in opaque mode). `undefined`
 * when there is none, the header is larger than {@link MAX_CREDENTIAL_HEADER_LENGTH}, or the
 * request has two `Authorization` headers (`headers` as Node's `req.headersDistinct`, where
 * every header is a list: `req.headers` keeps only the first of the pair and drops the
 * second, so a genuine token first and a forged one second would pass as the first alone).
 *
 * @example
 * ```ts
 * const token = credentialFrom({ authorization: 'Bearer abc' }); // 'abc'
 * ```
 */
export function credentialFrom(
  headers: HeaderSource,
  cookieName: string = ACCESS_COOKIE,
): string | undefined {
  const distinct = headers instanceof Headers ? undefined : headers.authorization;
  if (Array.isArray(distinct) && distinct.length > 1) return undefined; // two Authorization headers
  const authorization = readHeader(headers, 'authorization');
  if (authorization !== undefined && authorization.length <= MAX_CREDENTIAL_HEADER_LENGTH) {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  const cookie = readHeader(headers, 'cookie');
  if (cookie === undefined || cookie.length > MAX_CREDENTIAL_HEADER_LENGTH) return undefined;
  try {
    return readCookie(cookie, cookieName) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cache key of a credential: its SHA-256 (base64url, core's `hashToken`), so no token sits in a
 * map. One-shot `crypto.hash`, not `createHash().update().digest()`: a third of the cost.
 */
const cacheKey: (credential: string) => string = hashToken;

// ── The guard ────────────────────────────────────────────────────────────────────────────

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
  /**
   * What the adapters call, with the request's method: first the CSRF rule (contract §6,
   * core's `passesCsrfRule`: a cookie-authenticated unsafe request needs an allowed `Origin`
   * — the issuer's or `allowedOrigins` — or `X-Tessera-CSRF: 1`, else 403 `csrf`), then the
   * request's credential, decided synchronously when it can be (as {@link authenticateCached}),
   * else a promise (as {@link authenticate}). Never throws.
   * Node's `req.headers` keeps only the first of two `Authorization` headers: pass
   * `req.rawHeaders` as `rawHeaders` (as the adapters do; or `req.headersDistinct` as
   * `headers`) so that a pair is seen, and refused, rather than the first alone.
   */
  authenticateRequest(
    headers: HeaderSource,
    method: string,
    rawHeaders?: readonly string[],
  ): RequestResult | Promise<RequestResult>;
  /** The credential of a request (bearer header, else the mode's cookie). */
  credentialFrom(headers: HeaderSource): string | undefined;
  /** Counters (decisions, cache, fail-open, store checks). */
  readonly stats: GuardStats;
  /** Feed state; `undefined` without a feed (request mode). */
  feedStatus(): FeedStatus | undefined;
  close(): Promise<void>;
}

const refuse = (error: AuthError): AuthResult => ({ ok: false, error });
/** No credential at all: RFC 6750 §3.1, the challenge is plain `Bearer` (core's `wwwAuthenticateFor`). */
const malformed = (credential: string | undefined) =>
  credential === undefined
    ? new InvalidTokenError('no credential', { credentialMissing: true })
    : new InvalidTokenError('malformed credential');
const revoked = () => refuse(new SessionRevokedError('the session has been revoked'));
const keyRevoked = () => refuse(new InvalidTokenError('the access token was signed by a revoked key'));
const isWellFormed = (credential: string | undefined): credential is string =>
  typeof credential === 'string' && credential.length > 0 && credential.length <= MAX_TOKEN_LENGTH;

/**
 * The request path is one pipeline: credential → verifier (`jwt/` or `opaque/`, each with
 * its cache and cold path) → revocation check (`revocation/`) → decision. It is written
 * twice only in the sense that matters: {@link fast} decides synchronously from the
 * verifier's cache, {@link slow} does the I/O; `authenticate` tries the first, then the second.
 */
class TesseraGuard implements Guard {
  readonly stats: GuardStats = newGuardStats();
  private readonly cookieName: string;
  private readonly known: {
    issuer: string | undefined;
    keys: ResolvedOptions['keys'];
    accessTtlMs: number | undefined;
  };
  private parts: GuardParts | undefined;
  private started: Promise<void> | undefined;
  private metricsAttached = false;

  constructor(private readonly options: ResolvedOptions) {
    this.cookieName = options.tokenMode === 'jwt' ? ACCESS_COOKIE : SESSION_COOKIE;
    this.known = { issuer: options.issuer, keys: options.keys, accessTtlMs: options.accessTtlMs };
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

  authenticateRequest(
    headers: HeaderSource,
    method: string,
    rawHeaders?: readonly string[],
  ): RequestResult | Promise<RequestResult> {
    const credential =
      rawHeaders !== undefined && hasTwoAuthorizations(rawHeaders)
        ? undefined
        : credentialFrom(headers, this.cookieName);
    const csrf = this.checkCsrf(method, headers, credential);
    if (csrf !== undefined) return { ok: false, error: csrf };
    return this.authenticateCached(credential) ?? this.authenticate(credential);
  }

  /** Stage 0, the CSRF rule: bearer requests pass; a cookie credential with an unsafe method needs an allowed origin or the header. */
  private checkCsrf(
    method: string,
    headers: HeaderSource,
    credential: string | undefined,
  ): CsrfError | undefined {
    if (credential === undefined || !isUnsafeMethod(method)) return undefined; // safe methods: nothing to read
    const authorization = readHeader(headers, 'authorization');
    const bearer =
      authorization !== undefined &&
      authorization.length <= MAX_CREDENTIAL_HEADER_LENGTH &&
      /^Bearer +\S+ *$/i.test(authorization);
    const input = {
      method,
      credential: bearer ? ('bearer' as const) : ('cookie' as const),
      origin: readHeader(headers, 'origin'),
      csrfHeader: readHeader(headers, CSRF_HEADER),
    };
    if (passesCsrfRule(input, this.allowedOrigins())) return undefined;
    return new CsrfError(
      'a cookie-authenticated request needs a matching Origin or the X-Tessera-CSRF: 1 header',
    );
  }

  /** `allowedOrigins` plus the issuer's origin (known once `ready()` has read the metadata). */
  private allowedOrigins(): readonly string[] {
    const issuer = this.known.issuer;
    if (issuer === undefined || !URL.canParse(issuer)) return this.options.allowedOrigins;
    return [...this.options.allowedOrigins, new URL(issuer).origin];
  }

  authenticateCached(credential: string | undefined): AuthResult | undefined {
    if (!isWellFormed(credential)) return this.decide(refuse(malformed(credential)));
    const parts = this.parts;
    if (parts === undefined) return undefined;
    return this.fast(parts, cacheKey(credential), this.options.clock.now());
  }

  authenticate(credential: string | undefined): Promise<AuthResult> {
    if (!isWellFormed(credential)) return Promise.resolve(this.decide(refuse(malformed(credential))));
    const parts = this.parts;
    if (parts === undefined) return this.settle(this.whenReady(credential));
    const key = cacheKey(credential);
    const now = this.options.clock.now();
    return Promise.resolve(this.fast(parts, key, now) ?? this.settle(this.slow(parts, credential, key, now)));
  }

  /**
   * The synchronous path: the verifier's cache, then the revocation set (two map lookups).
   * The decision (counted), or `undefined` (nothing counted) when I/O is needed.
   */
  private fast(parts: GuardParts, key: string, now: number): AuthResult | undefined {
    const subject = parts.verifier.cached(key, now);
    if (subject === undefined) return undefined;
    const verdict = parts.revocations.check(subject, now);
    if (verdict === 'unknown') return undefined;
    this.stats.cacheHits += 1;
    if (verdict === 'key_revoked') return this.decide(keyRevoked());
    if (verdict === 'revoked') return this.decide(revoked());
    return this.decide(parts.verifier.admit?.(subject, key, now, false) ?? subject.allowed);
  }

  /**
   * The asynchronous path: a cached subject the set cannot vouch for is confirmed with the
   * store (jwt) or looked up again (opaque); otherwise the verifier's cold path runs, and its
   * result goes through the revocation check like a cached one.
   */
  private async slow(parts: GuardParts, credential: string, key: string, now: number): Promise<Decision> {
    const { verifier, revocations } = parts;
    const cached = verifier.cached(key, now);
    if (verifier.countsCache) {
      if (cached === undefined) this.stats.cacheMisses += 1;
      else this.stats.cacheHits += 1;
    }
    if (cached !== undefined && verifier.confirm !== undefined) {
      const verdict = revocations.check(cached, now);
      if (verdict === 'key_revoked') return keyRevoked();
      if (verdict === 'revoked') return revoked();
      if (verdict === 'clear') return verifier.admit?.(cached, key, now, false) ?? cached.allowed;
      return verifier.confirm(cached, now);
    }
    const verified = await verifier.verify(credential, key, now);
    if (!('subject' in verified)) return refuse(verified);
    const subject: Subject = verified.subject;
    const verdict = revocations.check(subject, now);
    if (verdict === 'key_revoked') return keyRevoked();
    if (verdict === 'revoked') return revoked();
    if (verdict === 'clear' || verified.fresh) {
      return verifier.admit?.(subject, key, now, verified.fresh) ?? subject.allowed;
    }
    if (verifier.confirm === undefined) throw new StoreUnavailableError('no session store');
    return verifier.confirm(subject, now);
  }

  /** Someone skipped `await guard.ready()`: start now, but never hold a request for long. */
  private async whenReady(credential: string): Promise<Decision> {
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
    const parts = this.parts as GuardParts;
    return this.slow(parts, credential, cacheKey(credential), this.options.clock.now());
  }

  private async settle(decision: Promise<Decision>): Promise<AuthResult> {
    try {
      return this.decide(await decision);
    } catch {
      return this.decide(refuse(new InvalidTokenError('the credential could not be verified')));
    }
  }

  /** Counts the decision; a fail-open pass is counted apart and handed on as a plain pass. */
  private decide(result: Decision): AuthResult {
    const { decisions } = this.stats;
    if (!result.ok) {
      decisions[result.error.code] += 1;
      return result;
    }
    if ('failOpen' in result) {
      decisions.allowed_fail_open += 1;
      return { ok: true, principal: result.principal };
    }
    decisions.allowed += 1;
    return result;
  }

  feedStatus(): FeedStatus | undefined {
    return this.parts?.revocations.status(this.options.clock.now());
  }

  async close(): Promise<void> {
    await this.started?.catch(() => {});
    await this.parts?.revocations.close();
    await this.parts?.reader?.close();
  }

  private async start(): Promise<void> {
    const { options } = this;
    if (options.registry && !this.metricsAttached) {
      this.metricsAttached = true;
      await registerGuardMetrics(options.registry, this.stats, () => {
        const status = this.feedStatus();
        return status === undefined ? -1 : status.lagMs / 1000;
      });
    }
    this.parts = await assembleGuard(options, this.known, this.stats);
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
