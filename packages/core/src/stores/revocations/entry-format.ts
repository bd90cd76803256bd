import type { RevocationEntry } from '../../sessions/types.ts';

/**
 * The revocation stream (see docs/redis-layout.md): one Redis Stream, key
 * `<prefix>revocations` (default `tessera:revocations`); each entry is kept until its own
 * `until` (at least 10 min) + 60 s, whoever writes later, and the TTL is only ever extended.
 *
 * Entry fields:
 * - `k`: `s` (one session), `u` (every session of a user) or `k` (a revoked signing key)
 * - `uid`: user id (`k=s`, `k=u`)
 * - `kid`: key id (`k=k`)
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
  if (entry.kind === 'key') return ['k', 'k', 'kid', entry.kid, 'until', String(entry.until)];
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

/**
 * Parses one stream entry (`[id, [field, value, ...]]`); `null` when malformed. A field given
 * twice counts with its last value; unknown fields are ignored. One pass over the pairs, no
 * map per entry: a guard decodes every outstanding entry at start-up.
 */
export function parseRevocationEntry(id: string, fields: readonly string[]): RevocationEntry | null {
  let k: string | undefined;
  let uid: string | undefined;
  let kid: string | undefined;
  let sid: string | undefined;
  let sids: string | undefined;
  let beforeText: string | undefined;
  let untilText: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    switch (fields[i]) {
      case 'k':
        k = value;
        break;
      case 'uid':
        uid = value;
        break;
      case 'kid':
        kid = value;
        break;
      case 'sid':
        sid = value;
        break;
      case 'sids':
        sids = value;
        break;
      case 'before':
        beforeText = value;
        break;
      case 'until':
        untilText = value;
        break;
    }
  }
  const until = Number(untilText);
  if (!Number.isFinite(until)) return null;
  if (k === 'k') return kid ? { kind: 'key', id, kid, until } : null;
  if (!uid) return null;
  if (k === 's') return sid ? { kind: 'session', id, sessionId: sid, userId: uid, until } : null;
  if (k === 'u') {
    const before = Number(beforeText);
    if (!Number.isFinite(before)) return null;
    return { kind: 'user', id, userId: uid, sessionIds: sids ? sids.split(' ') : [], before, until };
  }
  return null;
}
