/**
 * `@tessera/core`: what a user of the library needs. Everything else the other packages
 * use is in `@tessera/core/internal` (no compatibility promise).
 */

/** Every error class, as `errors.InvalidTokenError` etc. (as jose does). */
export * as errors from './errors/errors.ts';
export {
  type AnyTesseraError,
  ERROR_CODES,
  type ErrorCode,
  isTesseraError,
  type ProblemDetails,
  TesseraError,
} from './errors/errors.ts';
export { type ErrorResponse, toErrorResponse } from './errors/problem-response.ts';
export { type KeyRing, type KeyRingOptions, loadKeyRing, type SigningAlg } from './keys/key-ring.ts';
export { type Clock, ManualClock, systemClock } from './lib/clock.ts';
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
export {
  createRedisStore,
  openRedisSessionReader,
  type RedisSessionReaderOptions,
  type RedisStoreOptions,
} from './stores/redis/redis-store.ts';
export type {
  FollowRevocationsOptions,
  RevocationFollower,
  RevocationPosition,
} from './stores/revocations/follower.ts';
export type { SessionReader, SessionStore } from './stores/session-store.ts';
export { type AccessTokenClaims, verifyAccessToken } from './tokens/access-token.ts';
