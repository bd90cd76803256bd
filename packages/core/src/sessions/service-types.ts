import type { JWTVerifyGetKey } from 'jose';
import type { SigningKeyHandle } from '../keys/signing-key.ts';
import type { Clock } from '../lib/clock.ts';
import type { RevokedSessions, SessionStore } from '../stores/session-store.ts';
import type { AccessTokenClaims } from '../tokens/access-token.ts';
import type { ConcurrencyPolicy, RefreshPolicy, SessionRecord, TokenMode } from './types.ts';

/** What `createSessionService` needs. All durations in ms. */
export interface SessionServiceOptions {
  store: SessionStore;
  /** Signing keys (jwt mode). Structural so core's `KeyRing` fits. */
  keys: SessionKeys;
  issuer: string;
  audience: string;
  /** @default 'jwt' */
  tokenMode?: TokenMode;
  /** @default 600_000 (10 min) */
  accessTtlMs?: number;
  /** @default 86_400_000 (24 h) */
  idleTimeoutMs?: number;
  /** @default 2_592_000_000 (30 d) */
  absoluteTimeoutMs?: number;
  /** @default 'allow' */
  concurrency?: ConcurrencyPolicy;
  /** 0 = unlimited. @default 0 */
  maxSessions?: number;
  /** @default 'rotate' */
  refreshPolicy?: RefreshPolicy;
  /** At most 60 s. @default 10_000 */
  refreshGraceMs?: number;
  clock?: Clock;
}

/** The part of a key ring the session service uses. */
export interface SessionKeys {
  signingKey(): Promise<SigningKeyHandle>;
  verificationKeys(): JWTVerifyGetKey;
}

export interface LoginInput {
  userId: string;
  roles: string[];
  ip: string;
  userAgent: string;
  /** With `reject`: end the user's other sessions instead of refusing. */
  force?: boolean;
}

export interface RequestContext {
  ip?: string;
  userAgent?: string;
}

/** What login and refresh hand out (contract §3 TokenResponse, before serialisation). */
export interface IssuedTokens {
  /** JWT (jwt mode) or the opaque session token (opaque mode). */
  accessToken: string;
  /** Absent in opaque mode. */
  refreshToken?: string;
  tokenType: 'Bearer';
  /** Seconds until `accessToken` expires (opaque mode: until the session's idle expiry). */
  expiresIn: number;
  session: SessionRecord;
}

/** A credential that was checked against the store. */
export interface AuthenticatedSession {
  session: SessionRecord;
  /** `access` = JWT, `session` = opaque session token. */
  tokenKind: 'access' | 'session';
  /** Claims of the JWT (jwt mode). */
  claims?: AccessTokenClaims;
}

/** RFC 7662 answer. */
export type Introspection =
  | { active: false }
  | {
      active: true;
      sub: string;
      sid: string;
      exp: number;
      iat: number;
      roles: string[];
      token_type: 'access_token' | 'refresh_token' | 'session_token';
      iss: string;
      aud: string;
      client_id?: string;
    };

export interface SessionService {
  readonly tokenMode: TokenMode;
  /** Creates a session. Throws `SessionExistsError`, `StoreUnavailableError`. */
  login(input: LoginInput): Promise<IssuedTokens>;
  /**
   * Rotates the refresh token. Throws `InvalidTokenError`, `SessionExpiredError`,
   * `RefreshTokenReusedError` (the session was revoked), `AccessTokenActiveError`, `StoreUnavailableError`.
   */
  refresh(refreshToken: string, context?: RequestContext): Promise<IssuedTokens>;
  /**
   * Checks an access JWT or opaque session token against the store (the auth service's path;
   * opaque mode slides the idle timeout, throttled). Throws `InvalidTokenError`,
   * `TokenExpiredError`, `SessionRevokedError`, `SessionExpiredError`, `StoreUnavailableError`.
   */
  authenticate(token: string): Promise<AuthenticatedSession>;
  /** Verifies a JWT locally (no store). `null` when invalid or expired. */
  verifyAccessToken(token: string): Promise<AccessTokenClaims | null>;
  getSession(sessionId: string): Promise<SessionRecord | null>;
  listSessions(userId: string): Promise<SessionRecord[]>;
  /** Global invalidation of one session. `false` when there was none. */
  revokeSession(sessionId: string): Promise<boolean>;
  /** Global invalidation of every session of a user; returns how many. */
  revokeUserSessions(userId: string): Promise<RevokedSessions>;
  /**
   * RFC 7009: revokes the session of any Tessera token. Returns the id of the session it
   * revoked, or `null` for an unknown, forged or expired token (nothing changed).
   */
  revokeToken(token: string): Promise<string | null>;
  /** RFC 7662. */
  introspect(token: string): Promise<Introspection>;
}
