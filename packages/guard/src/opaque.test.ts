import { formatOpaqueToken, generateSecret, type SessionRecord } from '@tessera/core';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard, type SessionLookup } from './index.ts';
import { openSessionFixture, type SessionFixture } from './testing/auth-fixture.ts';

let redis: RedisServer;
let sessions: SessionFixture;
let guard: Guard;
const touches: string[] = [];
const registry = new Registry();

beforeAll(async () => {
  redis = await startRedis();
  sessions = await openSessionFixture(redis.url);
  // The real Redis store, with its touches counted (not a mock: every call goes to Redis).
  const store: SessionLookup = {
    getSession: (id) => sessions.store.getSession(id),
    touchSession: (id, now, idleMs, minIntervalMs): Promise<SessionRecord | null> => {
      touches.push(id);
      return sessions.store.touchSession(id, now, idleMs, minIntervalMs);
    },
  };
  guard = createGuard({
    tokenMode: 'opaque',
    redis: { kind: 'single', url: redis.url },
    store,
    idleTimeoutMs: 2000,
    registry,
    env: {},
  });
  await guard.ready();
});

afterAll(async () => {
  await guard?.close();
  await sessions?.close();
  await redis?.stop();
});

describe('guard (opaque mode)', () => {
  it('looks the session up per request and takes roles from it', async () => {
    const { sessionId, token } = await sessions.createSession('olive', ['user', 'admin']);
    expect(guard.feedStatus()).toBeUndefined();
    const result = await guard.authenticate(token);
    expect(result).toMatchObject({
      ok: true,
      principal: { userId: 'olive', sessionId, roles: ['user', 'admin'], claims: null },
    });
    expect(guard.credentialFrom({ cookie: `tessera_session=${token}` })).toBe(token);
  });

  it('refuses a wrong secret, a malformed token and a revoked session', async () => {
    const { sessionId, token } = await sessions.createSession('paul');
    const forged = formatOpaqueToken('session', sessionId, generateSecret());
    expect(await guard.authenticate(forged)).toMatchObject({ ok: false, error: { code: 'invalid_token' } });
    for (const bad of [
      '',
      'tss_',
      'tsr_x',
      token.replace('tss_', 'tsr_'),
      `${token}x`,
      'x'.repeat(1 << 20),
    ]) {
      expect(await guard.authenticate(bad)).toMatchObject({ ok: false, error: { code: 'invalid_token' } });
    }
    expect((await guard.authenticate(token)).ok).toBe(true);
    await sessions.store.revokeSession(sessionId, Date.now());
    expect((await guard.authenticate(token)).ok).toBe(false);
  });

  it('slides the expiry at most once per idle/20 per session', async () => {
    const { sessionId, token } = await sessions.createSession('quinn');
    await new Promise((resolve) => setTimeout(resolve, 120)); // > idle/20 = 100 ms since creation
    const before = (await sessions.store.getSession(sessionId))?.lastSeenAt ?? 0;
    touches.length = 0;
    for (let i = 0; i < 20; i++) expect((await guard.authenticate(token)).ok).toBe(true);
    expect(touches.filter((id) => id === sessionId)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await sessions.store.getSession(sessionId))?.lastSeenAt).toBeGreaterThan(before);
    await new Promise((resolve) => setTimeout(resolve, 110));
    expect((await guard.authenticate(token)).ok).toBe(true);
    expect(touches.filter((id) => id === sessionId)).toHaveLength(2);
  });

  it('exports decision metrics', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/tessera_guard_decisions_total\{outcome="allowed"\} \d+/);
    expect(text).toMatch(/tessera_guard_decisions_total\{outcome="invalid_token"\} \d+/);
    expect(text).toMatch(/tessera_guard_feed_lag_seconds -1/);
    expect(text).toMatch(/tessera_guard_store_checks_total \d+/);
  });
});
