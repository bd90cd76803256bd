/**
 * `@tessera/core/internal`: everything the other Tessera packages (server, guard, testkit,
 * bench) use, including what is not part of the public API — token formats, hashing, the
 * revocation stream's wire format, store commands. No compatibility promise.
 */
export { CSRF_HEADER, type CsrfInput, isUnsafeMethod, passesCsrfRule } from './csrf/csrf-rule.ts';
export * from './errors/errors.ts';
export {
  type ErrorResponse,
  TOKEN_CODES,
  toErrorResponse,
  wwwAuthenticateFor,
} from './errors/problem-response.ts';
export { ReplicaWaitTimeoutError } from './errors/replica-wait-timeout.ts';
export {
  generateSigningKey,
  KEY_FILE_CHECK_INTERVAL_MS,
  type KeyFile,
  type KeyRing,
  type KeyRingOptions,
  type KeyTimes,
  loadKeyRing,
  type PrivateSigningJwk,
  type PublicJwk,
  type SigningAlg,
  type SigningKeyHandle,
  type StoredSigningKey,
} from './keys/key-ring.ts';
export { type Clock, ManualClock, systemClock } from './lib/clock.ts';
export { formatDuration, parseDuration } from './lib/duration.ts';
export { hasTwoAuthorizations } from './lib/raw-headers.ts';
export type {
  AuthenticatedSession,
  Introspection,
  IssuedTokens,
  LoginInput,
  RequestContext,
  SessionKeys,
  SessionService,
  SessionServiceOptions,
} from './sessions/service-types.ts';
export { createSessionService } from './sessions/session-service.ts';
export type {
  ConcurrencyPolicy,
  RefreshPolicy,
  RevocationEntry,
  SessionRecord,
  TokenMode,
} from './sessions/types.ts';
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './stores/memory-store.ts';
export {
  connectRedis,
  createRedisClient,
  isRedisError,
  type RedisClient,
  type RedisConnectionConfig,
  redisConfigFromEnv,
} from './stores/redis/connection.ts';
export {
  createRedisStore,
  openRedisSessionReader,
  type RedisSessionReaderOptions,
  type RedisStoreOptions,
} from './stores/redis/redis-store.ts';
export type { ReplicaWaitOptions } from './stores/redis/replica-wait.ts';
export {
  startTouchApplier,
  type TouchApplier,
  type TouchApplierOptions,
  touchQueueKeys,
} from './stores/redis/touch-queue.ts';
export {
  DEFAULT_KEY_PREFIX,
  parseRevocationEntry,
  revocationFields,
  revocationStreamKey,
} from './stores/revocations/entry-format.ts';
export type {
  FollowRevocationsOptions,
  RevocationFollower,
  RevocationPosition,
} from './stores/revocations/follower.ts';
export { compareStreamIds } from './stores/revocations/stream-id.ts';
export type {
  CreateSessionCommand,
  CreateSessionResult,
  RateLimitResult,
  RevokedSessions,
  RotateRefreshCommand,
  RotateRefreshResult,
  SessionReader,
  SessionStore,
  StoredSession,
} from './stores/session-store.ts';
export { SESSION_CEILING } from './stores/store-input.ts';
export {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type AccessTokenVerification,
  CLOCK_TOLERANCE_SECONDS,
  signAccessToken,
  type VerifyAccessTokenOptions,
  verifyAccessToken,
} from './tokens/access-token.ts';
export {
  formatOpaqueToken,
  generateSecret,
  generateSessionId,
  hashSecret,
  hashToken,
  isValidUserId,
  MAX_TOKEN_LENGTH,
  type OpaqueTokenKind,
  type ParsedOpaqueToken,
  parseOpaqueToken,
  parseSessionId,
  REFRESH_TOKEN_PREFIX,
  SESSION_TOKEN_PREFIX,
  safeEqual,
} from './tokens/opaque-token.ts';
export { openSuccessor, sealSuccessor } from './tokens/successor-box.ts';
