import type { RevocationEntry } from '../sessions/types.ts';
import type { NewRevocation } from './redis/revocation-stream.ts';
import { compareStreamIds, parseStreamId } from './store-input.ts';

/**
 * The in-memory twin of the Redis revocation stream: ids `<ms>-<seq>` in the caller's
 * clock (never going backwards), trimmed by age (`retentionMs`) and capped in length.
 */
export interface RevocationLog {
  append(entry: NewRevocation, now: number): string;
  read(afterId: string, now: number): RevocationEntry[];
  readonly size: number;
}

interface LogItem {
  key: [number, number];
  entry: RevocationEntry;
}

export function createRevocationLog(retentionMs: number, maxEntries: number): RevocationLog {
  const items: LogItem[] = [];
  let last: [number, number] = [0, 0];

  function trim(now: number) {
    const oldest = now - retentionMs;
    let drop = 0;
    while (drop < items.length && (items[drop] as LogItem).key[0] < oldest) drop++;
    drop = Math.max(drop, items.length - maxEntries);
    if (drop > 0) items.splice(0, drop);
  }

  return {
    append(entry, now) {
      const key: [number, number] = now > last[0] ? [now, 0] : [last[0], last[1] + 1];
      last = key;
      const id = `${key[0]}-${key[1]}`;
      items.push({ key, entry: { ...entry, id } as RevocationEntry });
      trim(now);
      return id;
    },
    read(afterId, now) {
      const after = parseStreamId(afterId);
      if (!after) throw new TypeError('afterId must be a stream id (<ms>-<seq>) or 0');
      const oldest = now - retentionMs;
      return items
        .filter((item) => compareStreamIds(item.key, after) > 0 && item.key[0] >= oldest)
        .map((item) =>
          item.entry.kind === 'user'
            ? { ...item.entry, sessionIds: [...item.entry.sessionIds] }
            : { ...item.entry },
        );
    },
    get size() {
      return items.length;
    },
  };
}
