import { createRedisStore } from '@tessera/core';
import { type RedisServer, startRedis } from '@tessera/testkit';
import {
  type KeyServer,
  openSessionFixture,
  type SessionFixture,
  startKeyServer,
} from '@tessera/testkit/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../index.ts';

// Issue 9 §6: how long a revocation stays on the feed depends on the entry (its `until`),
// never on the TESSERA_ACCESS_TTL of whoever wrote last.
let redis: RedisServer;
let keys: KeyServer;
let service: SessionFixture;

beforeAll(async () => {
  redis = await startRedis();
  keys = await startKeyServer();
  service = await openSessionFixture(redis.url); // the auth service's store (retention 15 min)
});

afterAll(async () => {
  await service?.close();
  await keys?.close();
  await redis?.stop();
});

describe('revocation retention is set by the entry, not by the writer', () => {
  it('a revocation written by a CLI with a short TTL is still refused by a guard started after that TTL', async () => {
    const { sessionId } = await service.createSession('ann', ['user']);
    const now = Date.now();
    // The service runs with a 1 h access TTL: its last access token lives that long.
    await service.store.setAccessExpiry(sessionId, now + 3_600_000, now);
    const token = await keys.sign({ sub: 'ann', sid: sessionId, roles: ['user'] });
    // `tessera sessions revoke` with TESSERA_ACCESS_TTL=200ms: its own retention is tiny.
    const cli = createRedisStore({ client: service.client, revocationRetentionMs: 300, ownsClient: false });
    expect(await cli.revokeSession(sessionId, Date.now())).toBe(true);
    const revokedAt = Date.now();
    expect(await service.client.pttl('tessera:revocations')).toBeGreaterThan(3_500_000);
    // Past the CLI's retention (not a timing assertion: the guard must start *after* it).
    while (Date.now() < revokedAt + 800) await new Promise((resolve) => setTimeout(resolve, 50));
    // Another short-TTL writer appends: it must not trim the long-lived entry either.
    await cli.revokeSession((await service.createSession('bob')).sessionId, Date.now());

    const guard = createGuard({ authUrl: keys.url, redis: { kind: 'single', url: redis.url }, env: {} });
    try {
      await guard.ready();
      const result = await guard.authenticate(token);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.code).toBe('session_revoked');
    } finally {
      await guard.close();
    }
  });
});
