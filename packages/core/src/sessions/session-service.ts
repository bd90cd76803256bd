import { randomUUID } from 'node:crypto';
import {
  AccessTokenActiveError,
  InvalidTokenError,
  RefreshTokenReusedError,
  SessionExistsError,
  SessionExpiredError,
  SessionRevokedError,
  StoreUnavailableError,
  TokenExpiredError,
} from '../errors/errors.ts';
import { systemClock } from '../lib/clock.ts';
import { type AccessTokenClaims, signAccessToken, verifyAccessToken } from '../tokens/access-token.ts';
import {
  formatOpaqueToken,
  generateSecret,
  generateSessionId,
  hashSecret,
  isValidUserId,
  MAX_TOKEN_LENGTH,
  type ParsedOpaqueToken,
  parseOpaqueToken,
  safeEqual,
} from '../tokens/opaque-token.ts';
import { openSuccessor, sealSuccessor } from '../tokens/successor-box.ts';
import type {
  AuthenticatedSession,
  Introspection,
  IssuedTokens,
  LoginInput,
  SessionService,
  SessionServiceOptions,
} from './service-types.ts';
import type { SessionRecord } from './types.ts';

const MAX_GRACE_MS = 60_000;
const ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer (ms)`);
  return value;
}

/** The settings of a session service after defaults and validation. */
function resolveOptions(options: SessionServiceOptions) {
  const refreshGraceMs = options.refreshGraceMs ?? 10_000;
  if (!Number.isSafeInteger(refreshGraceMs) || refreshGraceMs < 0 || refreshGraceMs > MAX_GRACE_MS) {
    throw new TypeError('refreshGraceMs must be between 0 and 60000');
  }
  const maxSessions = options.maxSessions ?? 0;
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 0) throw new TypeError('maxSessions must be >= 0');
  if (!options.issuer || !options.audience) throw new TypeError('issuer and audience are required');
  return {
    tokenMode: options.tokenMode ?? 'jwt',
    accessTtlMs: positive('accessTtlMs', options.accessTtlMs ?? 600_000),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs ?? 86_400_000),
    absoluteTimeoutMs: positive('absoluteTimeoutMs', options.absoluteTimeoutMs ?? 2_592_000_000),
    concurrency: options.concurrency ?? 'allow',
    refreshPolicy: options.refreshPolicy ?? 'rotate',
    refreshGraceMs,
    maxSessions,
  } as const;
}

/**
 * The session engine: login, refresh rotation with reuse detection, authentication against
 * the store, revocation. Transport-free; the auth service maps its typed errors to HTTP.
 *
 * @example
 * const service = createSessionService({ store: createMemoryStore(), keys, issuer: 'http://127.0.0.1:4000', audience: 'tessera' });
 * const issued = await service.login({ userId: 'u1', roles: [], ip: '127.0.0.1', userAgent: 'curl' });
 * @see RFC 9700 §4.14.2 (refresh token rotation and reuse detection)
 */
export function createSessionService(options: SessionServiceOptions): SessionService {
  const settings = resolveOptions(options);
  const { store, keys, issuer, audience } = options;
  const clock = options.clock ?? systemClock;
  const isJwt = settings.tokenMode === 'jwt';
  const touchIntervalMs = Math.floor(settings.idleTimeoutMs / 20);
  const verifyOptions = { issuer, audience, algorithms: [...ALGORITHMS] };

  /** Access-token expiry in whole seconds, aligned with the JWT's `exp`. */
  function accessExpiry(now: number): { iat: number; exp: number } {
    const iat = Math.floor(now / 1000);
    return { iat, exp: iat + Math.ceil(settings.accessTtlMs / 1000) };
  }

  async function issue(session: SessionRecord, secretToken: string, now: number): Promise<IssuedTokens> {
    if (!isJwt) {
      return {
        accessToken: secretToken,
        tokenType: 'Bearer',
        expiresIn: Math.max(0, Math.floor((session.expiresAt - now) / 1000)),
        session,
      };
    }
    const { iat, exp } = accessExpiry(now);
    const key = await keys.signingKey();
    const claims: AccessTokenClaims = {
      iss: issuer,
      sub: session.userId,
      aud: audience,
      iat,
      exp,
      jti: randomUUID(),
      sid: session.id,
      roles: session.roles,
    };
    const accessToken = await signAccessToken(key, claims);
    return { accessToken, refreshToken: secretToken, tokenType: 'Bearer', expiresIn: exp - iat, session };
  }

  async function login(input: LoginInput): Promise<IssuedTokens> {
    if (!isValidUserId(input.userId)) throw new TypeError('userId must match [A-Za-z0-9_-]{1,64}');
    const now = clock.now();
    const sessionId = generateSessionId(input.userId);
    const secret = generateSecret();
    const absoluteExpiresAt = now + settings.absoluteTimeoutMs;
    const session: SessionRecord = {
      id: sessionId,
      userId: input.userId,
      roles: [...input.roles],
      createdAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(now + settings.idleTimeoutMs, absoluteExpiresAt),
      absoluteExpiresAt,
      ip: input.ip,
      userAgent: input.userAgent,
      accessExpiresAt: isJwt ? accessExpiry(now).exp * 1000 : 0,
    };
    const result = await store.createSession({
      session,
      secretHash: hashSecret(secret),
      concurrency: settings.concurrency,
      force: input.force === true,
      maxSessions: settings.maxSessions,
      now,
    });
    if (!result.ok)
      throw new SessionExistsError('the user already has an active session; log in with force to end it');
    return issue(session, formatOpaqueToken(isJwt ? 'refresh' : 'session', sessionId, secret), now);
  }

  async function refresh(refreshToken: string): Promise<IssuedTokens> {
    const presented = isJwt ? parseOpaqueToken(refreshToken, 'refresh') : null;
    if (!presented) throw new InvalidTokenError('the refresh token is malformed or unknown');
    const now = clock.now();
    const nextSecret = generateSecret();
    const nextToken = formatOpaqueToken('refresh', presented.sessionId, nextSecret);
    const result = await store.rotateRefresh({
      sessionId: presented.sessionId,
      presentedHash: hashSecret(presented.secret),
      nextHash: hashSecret(nextSecret),
      sealedSuccessor: sealSuccessor(nextToken, presented.secret, presented.sessionId),
      now,
      graceMs: settings.refreshGraceMs,
      idleMs: settings.idleTimeoutMs,
      strict: settings.refreshPolicy === 'strict',
      accessExpiresAt: accessExpiry(now).exp * 1000,
    });
    switch (result.kind) {
      case 'rotated':
        return issue(result.session, nextToken, now);
      case 'grace': {
        const successor = openSuccessor(result.sealedSuccessor, presented.secret, presented.sessionId);
        if (!successor) throw new InvalidTokenError('the refresh token is malformed or unknown');
        return issue(result.session, successor, now);
      }
      case 'reused':
        throw new RefreshTokenReusedError(
          'a used refresh token was presented again; the session was revoked',
        );
      case 'expired':
        throw new SessionExpiredError('the session has expired; log in again');
      case 'access_token_active':
        throw new AccessTokenActiveError('the current access token is still valid; refresh after it expires');
      case 'invalid':
        throw new InvalidTokenError('the refresh token is malformed or unknown');
    }
  }

  /** The live session an opaque token belongs to, or a typed error. */
  async function sessionOfOpaque(parsed: ParsedOpaqueToken, now: number): Promise<SessionRecord> {
    const stored = await store.getSession(parsed.sessionId);
    if (!stored) throw new SessionRevokedError('the session has ended');
    if (!safeEqual(hashSecret(parsed.secret), stored.secretHash)) {
      throw new InvalidTokenError('the token is malformed or unknown');
    }
    if (stored.expiresAt <= now) throw new SessionExpiredError('the session has expired; log in again');
    const { secretHash: _hash, ...session } = stored;
    return session;
  }

  async function verifyJwt(token: string, now: number): Promise<AccessTokenClaims> {
    const result = await verifyAccessToken(token, keys.verificationKeys(), { ...verifyOptions, now });
    if (result.ok) return result.claims;
    if (result.reason === 'expired') throw new TokenExpiredError('the access token has expired; refresh it');
    throw new InvalidTokenError('the access token is malformed or not valid');
  }

  /**
   * Slides the idle timeout (throttled) and returns the live session: one store call in the
   * common case; a second read only to tell an expired session from a revoked one.
   */
  async function touchOrExplain(sessionId: string, userId: string, now: number): Promise<SessionRecord> {
    const touched = await store.touchSession(sessionId, now, settings.idleTimeoutMs, touchIntervalMs);
    if (touched && touched.userId === userId) return touched;
    const stored = touched ? null : await store.getSession(sessionId);
    if (stored && stored.userId === userId && stored.expiresAt <= now) {
      throw new SessionExpiredError('the session has expired; log in again');
    }
    throw new SessionRevokedError('the session has ended');
  }

  async function authenticate(token: string): Promise<AuthenticatedSession> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError('the token is malformed or unknown');
    }
    const now = clock.now();
    if (!isJwt) {
      const parsed = parseOpaqueToken(token, 'session');
      if (!parsed) throw new InvalidTokenError('the token is malformed or unknown');
      const session = await sessionOfOpaque(parsed, now);
      return { session: await touchOrExplain(session.id, session.userId, now), tokenKind: 'session' };
    }
    const claims = await verifyJwt(token, now);
    return { session: await touchOrExplain(claims.sid, claims.sub, now), tokenKind: 'access', claims };
  }

  async function verifyLocally(token: string): Promise<AccessTokenClaims | null> {
    if (!isJwt || typeof token !== 'string') return null;
    const result = await verifyAccessToken(token, keys.verificationKeys(), {
      ...verifyOptions,
      now: clock.now(),
    });
    return result.ok ? result.claims : null;
  }

  /** The session id a token proves possession of, or `null` (unknown, forged, expired). */
  async function sessionIdOfToken(token: string, now: number): Promise<string | null> {
    const parsed = parseOpaqueToken(token);
    if (parsed) {
      const stored = await store.getSession(parsed.sessionId);
      if (!stored || !safeEqual(hashSecret(parsed.secret), stored.secretHash)) return null;
      return parsed.sessionId;
    }
    const result = await verifyAccessToken(token, keys.verificationKeys(), { ...verifyOptions, now });
    return result.ok ? result.claims.sid : null;
  }

  async function introspect(token: string): Promise<Introspection> {
    const now = clock.now();
    try {
      const parsed = parseOpaqueToken(token);
      if (parsed) {
        const session = await sessionOfOpaque(parsed, now);
        return {
          active: true,
          sub: session.userId,
          sid: session.id,
          exp: Math.floor(session.expiresAt / 1000),
          iat: Math.floor(session.createdAt / 1000),
          roles: session.roles,
          token_type: parsed.kind === 'refresh' ? 'refresh_token' : 'session_token',
          iss: issuer,
          aud: audience,
        };
      }
      const { session, claims } = await authenticateJwtWithoutTouch(token, now);
      return {
        active: true,
        sub: claims.sub,
        sid: session.id,
        exp: claims.exp,
        iat: claims.iat,
        roles: claims.roles,
        token_type: 'access_token',
        iss: claims.iss,
        aud: audience,
      };
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      return { active: false };
    }
  }

  async function authenticateJwtWithoutTouch(token: string, now: number) {
    const claims = await verifyJwt(token, now);
    const session = await store.getSession(claims.sid);
    if (!session || session.userId !== claims.sub || session.expiresAt <= now) {
      throw new SessionRevokedError('the session has ended');
    }
    return { session, claims };
  }

  return {
    tokenMode: settings.tokenMode,
    login,
    refresh,
    authenticate,
    verifyAccessToken: verifyLocally,
    introspect,
    getSession: async (sessionId) => {
      const stored = await store.getSession(sessionId);
      if (!stored || stored.expiresAt <= clock.now()) return null;
      const { secretHash: _hash, ...session } = stored;
      return session;
    },
    listSessions: (userId) => store.listUserSessions(userId, clock.now()),
    revokeSession: (sessionId) => store.revokeSession(sessionId, clock.now()),
    revokeUserSessions: (userId) => store.revokeUserSessions(userId, clock.now()),
    revokeToken: async (token) => {
      const now = clock.now();
      const sessionId = await sessionIdOfToken(token, now);
      if (sessionId === null) return null;
      await store.revokeSession(sessionId, now);
      return sessionId;
    },
  };
}
