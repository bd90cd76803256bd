import type { SessionRecord } from '../../sessions/types.ts';
import type { StoredSession } from '../session-store.ts';

/**
 * The session hash (see docs/redis-layout.md): `uid`, `roles` (JSON array), `ca`, `ls`,
 * `exp`, `abs`, `at` (ms), `ip`, `ua`, `rh` (current secret hash), and after a rotation
 * `ph`, `pt`, `sc`, `old`; `rv` = `1` while a cluster revocation is in flight.
 */
export function encodeSessionFields(session: SessionRecord, secretHash: string): string[] {
  return [
    'uid',
    session.userId,
    'roles',
    JSON.stringify(session.roles),
    'ca',
    String(session.createdAt),
    'ls',
    String(session.lastSeenAt),
    'exp',
    String(session.expiresAt),
    'abs',
    String(session.absoluteExpiresAt),
    'ip',
    session.ip,
    'ua',
    session.userAgent,
    'at',
    String(session.accessExpiresAt),
    'rh',
    secretHash,
  ];
}

/** Decodes a flat `HGETALL` reply; `null` when empty, malformed, or being revoked (`rv=1`). */
export function decodeSessionHash(sessionId: string, flat: unknown): StoredSession | null {
  if (!Array.isArray(flat) || flat.length === 0) return null;
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), String(flat[i + 1]));
  if (map.get('rv') === '1') return null;
  const userId = map.get('uid');
  const secretHash = map.get('rh');
  const roles = parseRoles(map.get('roles'));
  const numbers = ['ca', 'ls', 'exp', 'abs', 'at'].map((f) => Number(map.get(f)));
  if (!userId || !secretHash || !roles || numbers.some((n) => !Number.isFinite(n))) return null;
  const [createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, accessExpiresAt] = numbers as [
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    id: sessionId,
    userId,
    roles,
    createdAt,
    lastSeenAt,
    expiresAt,
    absoluteExpiresAt,
    ip: map.get('ip') ?? '',
    userAgent: map.get('ua') ?? '',
    accessExpiresAt,
    secretHash,
  };
}

/**
 * Decodes the session a script returns positionally (`rotate`): `uid, roles, ca, ls, exp, abs,
 * ip, ua, at` — what a caller sees, without the hashes. `null` when malformed.
 */
export function decodeSessionValues(sessionId: string, values: unknown): SessionRecord | null {
  if (!Array.isArray(values) || values.length !== 9) return null;
  const [userId, rawRoles, ca, ls, exp, abs, ip, ua, at] = values as unknown[];
  const roles = typeof rawRoles === 'string' ? parseRoles(rawRoles) : null;
  const createdAt = Number(ca);
  const lastSeenAt = Number(ls);
  const expiresAt = Number(exp);
  const absoluteExpiresAt = Number(abs);
  const accessExpiresAt = Number(at);
  if (
    typeof userId !== 'string' ||
    userId === '' ||
    !roles ||
    !Number.isFinite(createdAt) ||
    !Number.isFinite(lastSeenAt) ||
    !Number.isFinite(expiresAt) ||
    !Number.isFinite(absoluteExpiresAt) ||
    !Number.isFinite(accessExpiresAt)
  ) {
    return null;
  }
  return {
    id: sessionId,
    userId,
    roles,
    createdAt,
    lastSeenAt,
    expiresAt,
    absoluteExpiresAt,
    ip: typeof ip === 'string' ? ip : '',
    userAgent: typeof ua === 'string' ? ua : '',
    accessExpiresAt,
  };
}

function parseRoles(value: string | undefined): string[] | null {
  try {
    const parsed: unknown = JSON.parse(value ?? '');
    return Array.isArray(parsed) && parsed.every((r) => typeof r === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

/** Drops the secret hash: what callers outside the store see. */
export function toRecord(stored: StoredSession): SessionRecord {
  const { secretHash: _omit, ...record } = stored;
  return record;
}
