/** A session as the store keeps it (times in ms since the epoch). */
export interface SessionRecord {
  /** `<userId>.<random>`; see `generateSessionId`. */
  id: string;
  userId: string;
  roles: string[];
  createdAt: number;
  lastSeenAt: number;
  /** When the session ends if unused: `min(lastSeenAt + idle timeout, absoluteExpiresAt)`. */
  expiresAt: number;
  /** Hard end, however active (`TESSERA_ABSOLUTE_TIMEOUT`). */
  absoluteExpiresAt: number;
  ip: string;
  userAgent: string;
  /** `exp` (ms) of the latest access token issued for this session; 0 if none (opaque mode). */
  accessExpiresAt: number;
}

export type ConcurrencyPolicy = 'allow' | 'reject' | 'replace';
export type RefreshPolicy = 'rotate' | 'strict';
export type TokenMode = 'jwt' | 'opaque';

/**
 * One revocation as published on the revocation stream (see docs/redis-layout.md).
 * - `session`: refuse every token of session `sessionId`.
 * - `user`: refuse every token of the sessions in `sessionIds`, and every token of `userId`
 *   with `iat` (seconds) strictly before `floor(before / 1000)`.
 * Either entry matters until `until` (ms): after that no access token it concerns is valid.
 */
export type RevocationEntry =
  | { kind: 'session'; id: string; sessionId: string; userId: string; until: number }
  | { kind: 'user'; id: string; userId: string; sessionIds: string[]; before: number; until: number }
  /** A revoked signing key (`tessera keys revoke`): refuse every token it signed until `until`. */
  | { kind: 'key'; id: string; kid: string; until: number };
