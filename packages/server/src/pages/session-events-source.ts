import type { Clock, RevocationEntry, SessionStore } from '@tessera/core';

/**
 * The one place where the session event stream (`GET /v1/session/events`) learns that a
 * session ended. Today it reads the store's revocation feed (`readRevocations`, the Redis
 * stream or the memory store's log) on a short timer shared by every open stream of this
 * instance, plus a slow per-session re-check for ends that are not revocations (idle and
 * absolute timeouts). Re-wiring it to a push API of the store changes this file only.
 */
export interface SessionEventsSource {
  /**
   * Calls `onEnded` once when the session ends (`session_revoked` or `session_expired`), or
   * with `closing` when the service shuts down. Returns the unsubscribe function.
   */
  watch(session: WatchedSession, onEnded: (code: SessionEndCode) => void): () => void;
  /** Ends every watch with `closing` and stops reading the feed. */
  close(): void;
}

export type SessionEndCode = 'session_revoked' | 'session_expired' | 'closing';

export interface WatchedSession {
  id: string;
  userId: string;
  /** ms since the epoch. */
  createdAt: number;
}

export interface SessionEventsSourceOptions {
  store: SessionStore;
  clock: Clock;
  /** How often the revocation feed is read while a stream is open. @default 100 */
  feedIntervalMs?: number;
  /** How often each watched session is looked up (expiry; a feed gap). @default 15000 */
  recheckIntervalMs?: number;
}

/** Feed entries this old are read again when the first stream opens (a revocation racing its connect; clock skew between instances). */
const LOOKBACK_MS = 5_000;

interface Watch {
  session: WatchedSession;
  onEnded: (code: SessionEndCode) => void;
  nextCheckAt: number;
}

function ends(entry: RevocationEntry, session: WatchedSession): boolean {
  if (entry.kind === 'session') return entry.sessionId === session.id;
  if (entry.kind === 'user') {
    return (
      entry.sessionIds.includes(session.id) ||
      (entry.userId === session.userId && session.createdAt < entry.before)
    );
  }
  return false; // other kinds (a revoked signing key) do not end sessions
}

export function createSessionEventsSource(options: SessionEventsSourceOptions): SessionEventsSource {
  const { store, clock } = options;
  const feedIntervalMs = options.feedIntervalMs ?? 100;
  const recheckIntervalMs = options.recheckIntervalMs ?? 15_000;
  const watches = new Set<Watch>();
  let cursor = '0';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function end(watch: Watch, code: SessionEndCode): void {
    if (!watches.delete(watch)) return;
    watch.onEnded(code);
  }

  async function readFeed(): Promise<void> {
    const entries = await store.readRevocations(cursor, clock.now());
    for (const entry of entries) {
      cursor = entry.id;
      for (const watch of watches) if (ends(entry, watch.session)) end(watch, 'session_revoked');
    }
  }

  async function recheck(): Promise<void> {
    const now = clock.now();
    for (const watch of watches) {
      if (watch.nextCheckAt > now) continue;
      watch.nextCheckAt = now + recheckIntervalMs;
      const stored = await store.getSession(watch.session.id);
      if (!stored) end(watch, 'session_revoked');
      else if (stored.expiresAt <= clock.now()) end(watch, 'session_expired');
    }
  }

  function schedule(): void {
    if (timer !== undefined || closed || watches.size === 0) return;
    timer = setTimeout(() => {
      readFeed()
        .then(recheck)
        .catch(() => {}) // store unreachable: keep the streams open and try again
        .finally(() => {
          timer = undefined;
          schedule();
        });
    }, feedIntervalMs);
    timer.unref?.();
  }

  return {
    watch(session, onEnded) {
      if (closed) {
        queueMicrotask(() => onEnded('closing'));
        return () => {};
      }
      if (watches.size === 0) cursor = `${Math.max(0, clock.now() - LOOKBACK_MS)}-0`;
      const watch: Watch = { session, onEnded, nextCheckAt: clock.now() + recheckIntervalMs };
      watches.add(watch);
      schedule();
      return () => {
        watches.delete(watch);
      };
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const watch of [...watches]) end(watch, 'closing');
    },
  };
}
