import type { RevocationEntry } from '../../sessions/types.ts';

/**
 * The revocation stream (see docs/redis-layout.md): one Redis Stream, key
 * `<prefix>revocations` (default `tessera:revocations`), trimmed by age with
 * `MINID ~ <now - retention>` and given a TTL of the retention on every append.
 *
 * Entry fields:
 * - `k`: `s` (one session) or `u` (every session of a user)
 * - `uid`: user id
 * - `sid`: session id (`k=s`)
 * - `sids`: space-separated session ids that existed at revocation time (`k=u`)
 * - `before`: ms; refuse tokens of `uid` whose `iat` second is strictly before `floor(before/1000)` (`k=u`)
 * - `until`: ms; after this no access token the entry concerns is valid any more
 */
export const DEFAULT_KEY_PREFIX = 'tessera:';

export function revocationStreamKey(prefix: string = DEFAULT_KEY_PREFIX): string {
  return `${prefix}revocations`;
}

/** Field list for XADD. */
/** A revocation before the stream gives it an id. */
export type NewRevocation = RevocationEntry extends infer E
  ? E extends RevocationEntry
    ? Omit<E, 'id'>
    : never
  : never;

export function revocationFields(entry: NewRevocation): string[] {
  if (entry.kind === 'session') {
    return ['k', 's', 'uid', entry.userId, 'sid', entry.sessionId, 'until', String(entry.until)];
  }
  return [
    'k',
    'u',
    'uid',
    entry.userId,
    'sids',
    entry.sessionIds.join(' '),
    'before',
    String(entry.before),
    'until',
    String(entry.until),
  ];
}

/** Parses one stream entry (`[id, [field, value, ...]]`); `null` when malformed. */
export function parseRevocationEntry(id: string, fields: readonly string[]): RevocationEntry | null {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const until = Number(map.get('until'));
  const userId = map.get('uid');
  if (!Number.isFinite(until) || !userId) return null;
  if (map.get('k') === 's') {
    const sessionId = map.get('sid');
    return sessionId ? { kind: 'session', id, sessionId, userId, until } : null;
  }
  if (map.get('k') === 'u') {
    const before = Number(map.get('before'));
    if (!Number.isFinite(before)) return null;
    const sids = map.get('sids') ?? '';
    return { kind: 'user', id, userId, sessionIds: sids ? sids.split(' ') : [], before, until };
  }
  return null;
}
