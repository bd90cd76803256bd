import { connectRedis, createRedisClient, type RedisClient } from '@tessera/core';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueuedEvent } from './events.ts';
import { createRedisSsfStore } from './redis-ssf-store.ts';
import { createMemorySsfStore, type SsfStore } from './ssf-store.ts';
import type { StreamRecord } from './stream-record.ts';

/** One suite for every SsfStore driver: memory, one Redis, a Redis Cluster. */
interface Driver {
  name: string;
  open(): Promise<{ store: SsfStore; client?: RedisClient; prefix: string }>;
  close(): Promise<void>;
}

let redis: RedisServer;
let cluster: RedisCluster;
const drivers: Driver[] = [
  {
    name: 'memory',
    open: async () => ({ store: createMemorySsfStore(), prefix: '' }),
    close: async () => {},
  },
  {
    name: 'redis',
    async open() {
      redis ??= await startRedis();
      const client = createRedisClient({ kind: 'single', url: redis.url });
      await connectRedis(client);
      const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
      return { store: createRedisSsfStore(client, prefix), client, prefix };
    },
    close: async () => redis?.stop(),
  },
  {
    name: 'redis cluster',
    async open() {
      cluster ??= await startRedisCluster();
      const client = createRedisClient({ kind: 'cluster', nodes: cluster.nodes });
      await connectRedis(client, 15_000);
      const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
      return { store: createRedisSsfStore(client, prefix), client, prefix };
    },
    close: async () => cluster?.stop(),
  },
];

function streamRecord(method: StreamRecord['method'] = 'push'): StreamRecord {
  return {
    id: crypto.randomUUID(),
    method,
    aud: 'https://rx.example',
    endpointUrl: 'https://rx.example/events',
    eventsRequested: ['https://schemas.openid.net/secevent/caep/event-type/session-revoked'],
    status: 'enabled',
    createdAt: Date.now(),
    inactivityTimeoutMs: 60_000,
  };
}

const event = (jti: string): QueuedEvent => ({ jti, typ: 'secevent+jwt', claims: { n: jti } });

describe.each(drivers)('SsfStore: $name', (driver) => {
  let store: SsfStore;
  let client: RedisClient | undefined;
  let prefix: string;
  beforeAll(async () => {
    ({ store, client, prefix } = await driver.open());
  }, 90_000);
  afterAll(async () => {
    await store?.close();
    await driver.close();
  });

  it('saves, reads, lists and deletes streams', async () => {
    const a = streamRecord();
    const b = streamRecord('poll');
    await store.saveStream(a);
    await store.saveStream(b);
    expect(await store.getStream(a.id)).toEqual(a);
    expect((await store.listStreams()).map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    expect(await store.deleteStream(a.id)).toBe(true);
    expect(await store.deleteStream(a.id)).toBe(false);
    expect(await store.getStream(a.id)).toBeNull();
    expect((await store.listStreams()).map((s) => s.id)).toEqual([b.id]);
    await store.deleteStream(b.id);
  });

  it('push queue: own unacknowledged items come back; another consumer takes them over only after the idle time', async () => {
    const s = streamRecord();
    await store.saveStream(s);
    await store.enqueue(s, [event('1'), event('2'), event('3')]);
    expect(await store.queueLength(s)).toBe(3);
    const first = await store.claim(s, 'a', 2, 60_000);
    expect(first.map((i) => i.event.jti)).toEqual(['1', '2']);
    expect(first[0]?.event).toEqual(event('1'));
    expect(first.every((i) => i.attempts === 0)).toBe(true);
    // b gets only the unclaimed one; a's are not idle long enough to take over
    expect((await store.claim(s, 'b', 10, 60_000)).map((i) => i.event.jti)).toEqual(['3']);
    const again = await store.claim(s, 'a', 10, 60_000);
    expect(again.map((i) => i.event.jti)).toEqual(['1', '2']);
    expect(again.every((i) => i.attempts > 0)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const taken = await store.claim(s, 'c', 10, 10); // a and b stopped: c takes over
    expect(taken.map((i) => i.event.jti).sort()).toEqual(['1', '2', '3']);
    await store.ack(
      s,
      taken.map((i) => i.entryId),
    );
    expect(await store.queueLength(s)).toBe(0);
    expect(await store.claim(s, 'a', 10, 0)).toEqual([]);
    await store.deleteStream(s.id);
  });

  it('poll queue: peek shows the oldest, ackJtis removes exactly the named ones', async () => {
    const s = streamRecord('poll');
    await store.saveStream(s);
    await store.enqueue(s, ['a', 'b', 'c'].map(event));
    const page = await store.peek(s, 2);
    expect(page.items.map((i) => i.event.jti)).toEqual(['a', 'b']);
    expect(page.more).toBe(true);
    expect(await store.ackJtis(s, ['b', 'unknown'])).toBe(1);
    const rest = await store.peek(s, 10);
    expect(rest.items.map((i) => i.event.jti)).toEqual(['a', 'c']);
    expect(rest.more).toBe(false);
    await store.deleteStream(s.id);
  });

  it('remembers a key once until forgotten', async () => {
    expect(await store.rememberOnce('k1', 60_000)).toBe(true);
    expect(await store.rememberOnce('k1', 60_000)).toBe(false);
    await store.forget('k1');
    expect(await store.rememberOnce('k1', 60_000)).toBe(true);
  });

  it.runIf(driver.name !== 'memory')('gives every key it writes a TTL', async () => {
    const s = streamRecord();
    await store.saveStream(s);
    await store.enqueue(s, [event('x')]);
    await store.rememberOnce('k2', 60_000);
    const base = `${prefix}{ssf}:`;
    for (const key of [`${base}streams`, `${base}s:${s.id}`, `${base}q:${s.id}`, `${base}r:k2`]) {
      const ttl = await client?.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
    }
    await store.deleteStream(s.id);
  });
});
