import {
  connectRedis,
  createRedisClient,
  openRedisSessionReader,
  type RedisClient,
  type RevocationFollower,
  type SessionReader,
  systemClock,
} from '@tessera/core';
import { type RedisServer, startRedis, waitFor } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevocationSet } from './revocations.ts';

let redis: RedisServer;
let client: RedisClient;
const feeds: RevocationFollower[] = [];
const readers: SessionReader[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient({ kind: 'single', url: redis.url });
  await connectRedis(client);
});

afterAll(async () => {
  for (const feed of feeds) await feed.close();
  for (const reader of readers) await reader.close();
  client?.disconnect();
  await redis?.stop();
});

const until = () => String(Date.now() + 600_000);

/** Follows `<prefix>revocations` (core's follower on the guard's read-only store view) into a set. */
async function startFeed(prefix: string, options: { checkIntervalMs?: number; pageSize?: number } = {}) {
  const set = new RevocationSet(10_000);
  const reader = await openRedisSessionReader({ redis: client, keyPrefix: prefix });
  readers.push(reader);
  const feed = reader.followRevocations({
    onEntry: (entry) => set.apply(entry),
    clock: systemClock,
    ...options,
  });
  feeds.push(feed);
  await feed.start();
  return { feed, set };
}

describe('RevocationFeed', () => {
  it('loads every entry in pages before start() resolves, then follows new ones', async () => {
    for (let i = 0; i < 25; i++) {
      await redis.command(
        'XADD',
        'f1:revocations',
        '*',
        'k',
        's',
        'uid',
        'u',
        'sid',
        `u.s${i}`,
        'until',
        until(),
      );
    }
    const { feed, set } = await startFeed('f1:', { pageSize: 10 });
    expect(set.size.sessions).toBe(25);
    await redis.command(
      'XADD',
      'f1:revocations',
      '*',
      'k',
      'u',
      'uid',
      'w',
      'sids',
      'w.a w.b',
      'before',
      String(Date.now()),
      'until',
      until(),
    );
    await waitFor(() => set.size.users === 1, 2000);
    expect(set.size.sessions).toBe(27);
    expect(feed.isCurrent(Date.now(), 2000)).toBe(true);
    expect(feed.losses).toBe(0);
  });

  it('ignores malformed entries', async () => {
    await redis.command('XADD', 'f2:revocations', '*', 'k', 'zzz', 'uid', 'u');
    await redis.command('XADD', 'f2:revocations', '*', 'k', 's', 'uid', 'u', 'sid', 'u.ok', 'until', until());
    const { set } = await startFeed('f2:');
    expect(set.size.sessions).toBe(1);
  });

  it('a stream that vanishes while the feed is connected and current is not a loss (TTL expiry)', async () => {
    await redis.command('XADD', 'f3:revocations', '*', 'k', 's', 'uid', 'u', 'sid', 'u.x', 'until', until());
    const { feed, set } = await startFeed('f3:', { checkIntervalMs: 20 });
    const checks = feed.checks;
    await redis.command('DEL', 'f3:revocations');
    // Past a blocked XREAD on the vanished stream and the checks after it.
    await waitFor(() => feed.checks >= checks + 2, 5000);
    expect(feed.losses).toBe(0);
    expect(feed.suspectBefore).toBe(0);
    await redis.command('XADD', 'f3:revocations', '*', 'k', 's', 'uid', 'u', 'sid', 'u.y', 'until', until());
    await waitFor(() => set.size.sessions === 2, 2000);
    const later = feed.checks;
    await waitFor(() => feed.checks > later, 5000);
    expect(feed.losses).toBe(0);
    expect(feed.isCurrent(Date.now(), 2000)).toBe(true);
  });
});
