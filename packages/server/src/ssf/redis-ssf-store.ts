import { type RedisClient, StoreUnavailableError } from '@tessera/core/internal';
import type { QueuedEvent } from './events.ts';
import { MAX_QUEUE_LENGTH, type QueueItem, type SsfStore } from './ssf-store.ts';
import { decodeStream, encodeStream, type StreamRecord } from './stream-record.ts';

/** Consumer group on every push queue; each auth instance is one consumer in it. */
const GROUP = 'push';

type RawEntry = [string, string[] | null];

function toItem(raw: RawEntry, attempts: number): QueueItem | null {
  const [entryId, fields] = raw;
  if (!fields) return null; // deleted (XDEL) while pending
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const jti = map.get('jti');
  const typ = map.get('typ');
  const claims = map.get('claims');
  if (!jti || (typ !== 'secevent+jwt' && typ !== 'logout+jwt') || !claims) return null;
  try {
    const event: QueuedEvent = { jti, typ, claims: JSON.parse(claims) as Record<string, unknown> };
    return { entryId, event, attempts };
  } catch {
    return null;
  }
}

function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

/**
 * SSF streams and their delivery queues in Redis (docs/events.md, "Redis keys"). Every key
 * carries the hash tag `{ssf}` (one Cluster slot) and a TTL: the stream's inactivity timeout,
 * restarted by every delivery, acknowledgement and management call.
 */
export function createRedisSsfStore(client: RedisClient, prefix: string): SsfStore {
  const base = `${prefix}{ssf}:`;
  const index = `${base}streams`;
  const configKey = (id: string) => `${base}s:${id}`;
  const queueKey = (id: string) => `${base}q:${id}`;
  const replayKey = (key: string) => `${base}r:${key}`;

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new StoreUnavailableError('event store unavailable', { cause: error });
    }
  }

  async function expire(stream: StreamRecord, withConfig: boolean): Promise<void> {
    const ttl = stream.inactivityTimeoutMs;
    const multi = client.multi();
    if (withConfig) multi.pexpire(configKey(stream.id), ttl).zadd(index, 'XX', Date.now() + ttl, stream.id);
    multi.pexpire(queueKey(stream.id), ttl).pexpire(index, ttl, 'NX').pexpire(index, ttl, 'GT');
    await multi.exec();
  }

  async function ensureGroup(stream: StreamRecord): Promise<void> {
    try {
      await client.xgroup('CREATE', queueKey(stream.id), GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
    await client.pexpire(queueKey(stream.id), stream.inactivityTimeoutMs, 'NX');
  }

  async function readGroup(stream: StreamRecord, consumer: string, count: number, from: string) {
    const reply = (await client.xreadgroup(
      'GROUP',
      GROUP,
      consumer,
      'COUNT',
      count,
      'STREAMS',
      queueKey(stream.id),
      from,
    )) as Array<[string, RawEntry[]]> | null;
    return reply?.[0]?.[1] ?? [];
  }

  async function claimOnce(stream: StreamRecord, consumer: string, count: number, minIdleMs: number) {
    // 1. our own unacknowledged items (a failed attempt waiting for its retry)
    const own = await readGroup(stream, consumer, count, '0');
    const items = own.flatMap((raw) => toItem(raw, 1) ?? []);
    if (own.length > 0) {
      const gone = own.filter((raw) => !raw[1]).map((raw) => raw[0]);
      if (gone.length > 0) await client.xack(queueKey(stream.id), GROUP, ...gone);
      if (items.length > 0) return items;
    }
    // 2. what a stopped instance left unacknowledged
    const claimed = (await client.call(
      'XAUTOCLAIM',
      queueKey(stream.id),
      GROUP,
      consumer,
      String(minIdleMs),
      '0-0',
      'COUNT',
      String(count),
    )) as [string, RawEntry[], string[]?];
    const stolen = (claimed[1] ?? []).flatMap((raw) => toItem(raw, 1) ?? []);
    if (stolen.length > 0) return stolen;
    // 3. new items
    return (await readGroup(stream, consumer, count, '>')).flatMap((raw) => toItem(raw, 0) ?? []);
  }

  return {
    async saveStream(stream) {
      const ttl = stream.inactivityTimeoutMs;
      await call(async () => {
        await client
          .multi()
          .set(configKey(stream.id), encodeStream(stream), 'PX', ttl)
          .zadd(index, Date.now() + ttl, stream.id)
          .pexpire(index, ttl, 'NX')
          .pexpire(index, ttl, 'GT')
          .exec();
        if (stream.method !== 'poll') await ensureGroup(stream);
      });
    },
    async getStream(id) {
      const text = await call(() => client.get(configKey(id)));
      return text ? decodeStream(text) : null;
    },
    async listStreams() {
      return call(async () => {
        await client.zremrangebyscore(index, '-inf', Date.now());
        const ids = await client.zrange(index, 0, -1);
        if (ids.length === 0) return [];
        const texts = await client.mget(...ids.map(configKey));
        return texts.flatMap((text) => (text ? (decodeStream(text) ?? []) : []));
      });
    },
    async deleteStream(id) {
      return call(async () => {
        const [removed] = (await client
          .multi()
          .del(configKey(id), queueKey(id))
          .zrem(index, id)
          .exec()) as Array<[Error | null, number]>;
        return (removed?.[1] ?? 0) > 0;
      });
    },
    touchStream: (stream) => call(() => expire(stream, true)),
    async enqueue(stream, events) {
      if (events.length === 0) return;
      await call(async () => {
        const multi = client.multi();
        for (const event of events) {
          multi.xadd(
            queueKey(stream.id),
            'MAXLEN',
            '~',
            MAX_QUEUE_LENGTH,
            '*',
            'jti',
            event.jti,
            'typ',
            event.typ,
            'claims',
            JSON.stringify(event.claims),
          );
        }
        multi.pexpire(queueKey(stream.id), stream.inactivityTimeoutMs);
        await multi.exec();
      });
    },
    async claim(stream, consumer, count, minIdleMs) {
      return call(async () => {
        try {
          return await claimOnce(stream, consumer, count, minIdleMs);
        } catch (error) {
          if (!isNoGroup(error)) throw error;
          if (!(await client.exists(configKey(stream.id)))) return []; // deleted meanwhile
          await ensureGroup(stream); // the queue expired or was created by XADD alone
          return claimOnce(stream, consumer, count, minIdleMs);
        }
      });
    },
    async ack(stream, entryIds) {
      if (entryIds.length === 0) return;
      await call(async () => {
        await client
          .multi()
          .xack(queueKey(stream.id), GROUP, ...entryIds)
          .xdel(queueKey(stream.id), ...entryIds)
          .exec();
        await expire(stream, true);
      });
    },
    async peek(stream, count) {
      const raw = (await call(() =>
        client.xrange(queueKey(stream.id), '-', '+', 'COUNT', count + 1),
      )) as RawEntry[];
      const items = raw.slice(0, count).flatMap((r) => toItem(r, 0) ?? []);
      return { items, more: raw.length > count };
    },
    async ackJtis(stream, jtis) {
      if (jtis.length === 0) return 0;
      return call(async () => {
        const wanted = new Set(jtis);
        const found: string[] = [];
        let start = '-';
        // Acknowledgements are nearly always for the oldest items: read from the head in pages.
        for (;;) {
          const page = (await client.xrange(queueKey(stream.id), start, '+', 'COUNT', 500)) as RawEntry[];
          for (const raw of page) {
            const item = toItem(raw, 0);
            if (item && wanted.delete(item.event.jti)) found.push(raw[0]);
          }
          const last = page.at(-1);
          if (page.length < 500 || wanted.size === 0 || !last) break;
          start = `(${last[0]}`;
        }
        if (found.length > 0) await client.xdel(queueKey(stream.id), ...found);
        await expire(stream, true);
        return found.length;
      });
    },
    queueLength: (stream) => call(() => client.xlen(queueKey(stream.id))),
    async rememberOnce(key, ttlMs) {
      const set = await call(() => client.set(replayKey(key), '1', 'PX', ttlMs, 'NX'));
      return set === 'OK';
    },
    async forget(key) {
      await call(() => client.del(replayKey(key)));
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
