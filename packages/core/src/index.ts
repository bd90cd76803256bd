export * from './errors/errors.ts';
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
  type RedisClient,
  type RedisConnectionConfig,
  redisConfigFromEnv,
} from './stores/redis/connection.ts';
export { createRedisStore, type RedisStoreOptions } from './stores/redis/redis-store.ts';
export { type ReplicaWaitOptions, ReplicaWaitTimeoutError } from './stores/redis/replica-wait.ts';
export {
  DEFAULT_KEY_PREFIX,
  parseRevocationEntry,
  revocationFields,
  revocationStreamKey,
} from './stores/redis/revocation-stream.ts';
export {
  startTouchApplier,
  type TouchApplier,
  type TouchApplierOptions,
  touchQueueKeys,
} from './stores/redis/touch-queue.ts';
export type {
  CreateSessionCommand,
  CreateSessionResult,
  RateLimitResult,
  RotateRefreshCommand,
  RotateRefreshResult,
  SessionStore,
  StoredSession,
} from './stores/session-store.ts';
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
