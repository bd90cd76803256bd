import { type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommand, ManualClock, newSession, RETENTION } from './conformance-fixtures.ts';
import { createMemoryStore } from './memory-store.ts';
import { connectRedis, createRedisClient } from './redis/connection.ts';
import { createRedisStore } from './redis/redis-store.ts';
import type { SessionStore } from './session-store.ts';
import { SESSION_CEILING } from './store-input.ts';

// Issue 9 §8: with TESSERA_MAX_SESSIONS=0 one account could grow its index without bound.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

const makers: Array<[string, () => Promise<{ store: SessionStore; close(): Promise<void> }>]> = [
  [
    'memory',
    async () => ({ store: createMemoryStore({ revocationRetentionMs: RETENTION }), close: async () => {} }),
  ],
  [
    'redis',
    async () => {
      const client = createRedisClient({ kind: 'single', url: server.url });
      await connectRedis(client);
      const store = createRedisStore({ client, revocationRetentionMs: RETENTION });
      return { store, close: () => store.close() };
    },
  ],
];

describe.each(makers)('hard ceiling on one user’s sessions (%s)', (_name, make) => {
  it(`maxSessions 0 still keeps at most ${SESSION_CEILING} live sessions, evicting the oldest`, async () => {
    const { store, close } = await make();
    try {
      const clock = new ManualClock(Date.now());
      const ids: string[] = [];
      for (let i = 0; i < SESSION_CEILING + 3; i++) {
        clock.advance(1);
        const session = newSession('mallory', clock);
        ids.push(session.id);
        const result = await store.createSession(createCommand(session, clock, { maxSessions: 0 }));
        expect(result.ok).toBe(true);
        if (i === SESSION_CEILING) expect(result).toEqual({ ok: true, revokedSessionIds: [ids[0]] });
      }
      const live = await store.listUserSessions('mallory', clock.now());
      expect(live).toHaveLength(SESSION_CEILING);
      expect(live[0]?.id).toBe(ids[3]);
      expect(await store.getSession(ids[2] as string)).toBeNull();
      const revoked = await store.readRevocations('0', clock.now());
      expect(
        revoked.filter((e) => e.kind === 'session').map((e) => e.kind === 'session' && e.sessionId),
      ).toEqual(ids.slice(0, 3));
    } finally {
      await close();
    }
  }, 60_000);
});
