import { randomUUID } from 'node:crypto';
import type { RevocationEntry } from '../../sessions/types.ts';
import type { NewRevocation } from './entry-format.ts';
import type { RevocationSource, SourceEntry } from './follower.ts';
import { compareStreamIdPairs, parseStreamId } from './stream-id.ts';

/**
 * The in-memory twin of the Redis revocation stream: ids `<ms>-<seq>` in the caller's
 * clock (never going backwards), trimmed by age (`retentionMs`) and capped in length, with
 * an append count (Redis's `entries-added`) so a follower can detect what was trimmed.
 */
export interface RevocationLog {
  append(entry: NewRevocation, now: number): string;
  read(afterId: string, now: number): RevocationEntry[];
  /** Keeps only the newest `maxLength` entries (`XTRIM MAXLEN`). */
  trim(maxLength: number): void;
  /** A source to follow the log with (`followRevocations`). */
  source(): RevocationSource;
  readonly size: number;
}

interface LogItem {
  key: [number, number];
  entry: RevocationEntry;
}

const copyEntry = (entry: RevocationEntry): RevocationEntry =>
  entry.kind === 'user' ? { ...entry, sessionIds: [...entry.sessionIds] } : { ...entry };

export function createRevocationLog(retentionMs: number, maxEntries: number): RevocationLog {
  const items: LogItem[] = [];
  let last: [number, number] = [0, 0];
  let added = 0;
  /** The log's lifetime: one per store (a memory store's "restart" is a new store). */
  const epoch = randomUUID();
  const waiters = new Set<() => void>();

  function trimByAge(now: number) {
    const oldest = now - retentionMs;
    let drop = 0;
    while (drop < items.length && (items[drop] as LogItem).key[0] < oldest) drop++;
    drop = Math.max(drop, items.length - maxEntries);
    if (drop > 0) items.splice(0, drop);
  }

  function after(afterId: string): LogItem[] {
    const from = parseStreamId(afterId);
    if (!from) throw new TypeError('afterId must be a stream id (<ms>-<seq>) or 0');
    return items.filter((item) => compareStreamIdPairs(item.key, from) > 0);
  }

  const toSource = (list: LogItem[], count: number): SourceEntry[] =>
    list.slice(0, count).map((item) => ({ id: item.entry.id, entry: copyEntry(item.entry) }));

  return {
    append(entry, now) {
      const key: [number, number] = now > last[0] ? [now, 0] : [last[0], last[1] + 1];
      last = key;
      const id = `${key[0]}-${key[1]}`;
      items.push({ key, entry: { ...entry, id } as RevocationEntry });
      added += 1;
      trimByAge(now);
      for (const wake of [...waiters]) wake();
      return id;
    },
    read(afterId, now) {
      const oldest = now - retentionMs;
      return after(afterId)
        .filter((item) => item.key[0] >= oldest)
        .map((item) => copyEntry(item.entry));
    },
    trim(maxLength) {
      if (items.length > maxLength) items.splice(0, items.length - maxLength);
    },
    source() {
      let closed = false;
      const pending = new Set<() => void>();
      return {
        connect: async () => {},
        epoch: async () => epoch,
        range: async (afterId, count) => toSource(after(afterId), count),
        snapshot: async (afterId, count) => ({ added, entries: toSource(after(afterId), count) }),
        async wait(afterId, count, blockMs) {
          const ready = after(afterId);
          if (ready.length > 0 || closed) return toSource(ready, count);
          await new Promise<void>((resolve) => {
            const wake = () => {
              clearTimeout(timer);
              waiters.delete(wake);
              pending.delete(wake);
              resolve();
            };
            const timer = setTimeout(wake, blockMs);
            timer.unref();
            waiters.add(wake);
            pending.add(wake);
          });
          return toSource(after(afterId), count);
        },
        onDisconnect: () => {},
        close() {
          closed = true;
          for (const wake of [...pending]) wake();
        },
      };
    },
    get size() {
      return items.length;
    },
  };
}
