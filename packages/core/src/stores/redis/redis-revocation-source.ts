import { Cluster } from 'ioredis';
import { parseRevocationEntry } from '../revocations/entry-format.ts';
import type { RevocationSource, SourceEntry } from '../revocations/follower.ts';
import { type RedisClient, waitUntilReady } from './connection.ts';

type StreamEntry = [id: string, fields: string[]];

const toSourceEntries = (raw: readonly StreamEntry[]): SourceEntry[] =>
  raw.map(([id, fields]) => ({ id, entry: parseRevocationEntry(id, fields) }));

/** `XRANGE`'s start for "after `id`": the whole stream for `'0'`. */
const after = (id: string) => (id === '0' ? '-' : `(${id}`);

/**
 * Reads `entries-added` (Redis ≥ 7.0: how many entries were ever appended) from `XINFO STREAM`'s
 * flat reply; 0 when missing.
 */
export function readEntriesAdded(reply: unknown): number {
  if (!Array.isArray(reply)) return 0;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    if (String(reply[i]) === 'entries-added') return Number(reply[i + 1]) || 0;
  }
  return 0;
}

/**
 * The revocation stream `streamKey` read on a duplicate of `client` (blocking `XREAD` must
 * not hold up the client's other commands), which never resends a command after a
 * reconnect: a disconnect surfaces as an error the follower answers with a position check.
 */
export function createRedisRevocationSource(client: RedisClient, streamKey: string): RevocationSource {
  const connection: RedisClient =
    client instanceof Cluster
      ? client.duplicate(undefined, {
          redisOptions: { ...client.options.redisOptions, autoResendUnfulfilledCommands: false },
        })
      : client.duplicate({ autoResendUnfulfilledCommands: false, lazyConnect: true });
  connection.on('error', () => {});
  return {
    connect: (timeoutMs) => waitUntilReady(connection, timeoutMs),

    async epoch() {
      // A cluster's stream node is not pinned on this connection: no run id to compare.
      if (connection instanceof Cluster) return undefined;
      const info = await connection.info('server');
      return /run_id:(\w+)/.exec(info)?.[1];
    },

    async range(afterId, count) {
      const raw = (await connection.xrange(streamKey, after(afterId), '+', 'COUNT', count)) as StreamEntry[];
      return toSourceEntries(raw);
    },

    async snapshot(afterId, count) {
      const replies = await connection
        .multi()
        .exists(streamKey)
        .xinfo('STREAM', streamKey)
        .xrange(streamKey, after(afterId), '+', 'COUNT', count)
        .exec();
      if (replies === null) throw new Error('transaction aborted');
      const [
        [existsError, exists] = [null, 0],
        [infoError, info] = [null, null],
        [rangeError, range] = [null, []],
      ] = replies;
      if (existsError) throw existsError;
      if (rangeError) throw rangeError;
      // XINFO fails on a missing key; the EXISTS in the same transaction says whether that was it.
      if (exists === 0) return { added: null, entries: toSourceEntries((range ?? []) as StreamEntry[]) };
      if (infoError) throw infoError;
      return { added: readEntriesAdded(info), entries: toSourceEntries((range ?? []) as StreamEntry[]) };
    },

    async wait(afterId, count, blockMs) {
      const reply = (await connection.xread(
        'COUNT',
        count,
        'BLOCK',
        blockMs,
        'STREAMS',
        streamKey,
        afterId,
      )) as Array<[string, StreamEntry[]]> | null;
      return toSourceEntries(reply?.[0]?.[1] ?? []);
    },

    onDisconnect(listener) {
      connection.on('close', listener);
      connection.on('end', listener);
    },

    close() {
      connection.disconnect();
    },
  };
}
