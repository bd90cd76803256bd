import type { SessionRecord } from '../../sessions/types.ts';
import type { StoredSession } from '../session-store.ts';
import { decodeUserAgent, encodeUserAgent } from './user-agent-codec.ts';

/**
 * The session hash (see docs/redis-layout.md): `uid`, `roles` (JSON array), `ca`, `ls`,
 * `exp`, `abs`, `at` (ms), `ip`, `ua`, `rh` (current secret hash), and after a rotation
 * `ph`, `pt`, `sc`, `old`; `rv` = `1` while a cluster revocation is in flight. `ua` is stored in
 * its lossless compact form (user-agent-codec.ts) so that the hash stays a listpack; every
 * decode path below gives the User-Agent back as it was sent.
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
    encodeUserAgent(session.userAgent),
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
  const record = recordFrom(sessionId, (field) => map.get(field));
  const secretHash = map.get('rh');
  if (!record || !secretHash) return null;
  return { ...record, secretHash };
}

/** Field order of the positional session a script returns (`rotate`). */
const POSITIONAL_FIELDS = ['uid', 'roles', 'ca', 'ls', 'exp', 'abs', 'ip', 'ua', 'at'];

/**
 * Decodes the session a script returns positionally (`rotate`): `uid, roles, ca, ls, exp, abs,
 * ip, ua, at` — what a caller sees, without the hashes. `null` when malformed.
 */
export function decodeSessionValues(sessionId: string, values: unknown): SessionRecord | null {
  if (!Array.isArray(values) || values.length !== POSITIONAL_FIELDS.length) return null;
  return recordFrom(sessionId, (field) => values[POSITIONAL_FIELDS.indexOf(field)]);
}

/** The session record from its fields (by name), or `null` when a field is missing or malformed. */
function recordFrom(sessionId: string, get: (field: string) => unknown): SessionRecord | null {
  const userId = get('uid');
  const rawRoles = get('roles');
  const roles = typeof rawRoles === 'string' ? parseRoles(rawRoles) : null;
  const numbers = ['ca', 'ls', 'exp', 'abs', 'at'].map((field) => Number(get(field)));
  if (typeof userId !== 'string' || userId === '' || !roles || numbers.some((n) => !Number.isFinite(n))) {
    return null;
  }
  const [createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, accessExpiresAt] = numbers as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ip = get('ip');
  const userAgent = get('ua');
  return {
    id: sessionId,
    userId,
    roles,
    createdAt,
    lastSeenAt,
    expiresAt,
    absoluteExpiresAt,
    ip: typeof ip === 'string' ? ip : '',
    userAgent: typeof userAgent === 'string' ? decodeUserAgent(userAgent) : '',
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
