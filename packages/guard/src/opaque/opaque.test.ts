import type { SessionRecord } from '@tessera/core';
import { formatOpaqueToken, generateSecret } from '@tessera/core/internal';
import { type RedisServer, startRedis, waitFor } from '@tessera/testkit';
import { openSessionFixture, type SessionFixture } from '@tessera/testkit/fixtures';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard, type SessionLookup } from '../index.ts';

let redis: RedisServer;
let sessions: SessionFixture;
let guard: Guard;
let perRequest: Guard;
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
  perRequest = createGuard({
    tokenMode: 'opaque',
    revocationCheck: 'request',
    redis: { kind: 'single', url: redis.url },
    env: {},
  });
  await perRequest.ready();
});

afterAll(async () => {
  await guard?.close();
  await perRequest?.close();
  await sessions?.close();
  await redis?.stop();
});

describe('guard (opaque mode)', () => {
  it('looks the session up per request and takes roles from it', async () => {
    const { sessionId, token } = await sessions.createSession('olive', ['user', 'admin']);
    expect(guard.feedStatus()?.current).toBe(true);
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
    expect((await perRequest.authenticate(token)).ok).toBe(true);
    await sessions.store.revokeSession(sessionId, Date.now());
    expect((await perRequest.authenticate(token)).ok).toBe(false);
    await waitFor(async () => !(await guard.authenticate(token)).ok, 1000);
    expect(await guard.authenticate(token)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });
  });

  it('feed mode reuses a lookup (no round trip) and still refuses at once after revoke-all', async () => {
    const { token } = await sessions.createSession('rita');
    const checks = guard.stats.storeChecks;
    for (let i = 0; i < 10; i++) expect((await guard.authenticate(token)).ok).toBe(true);
    expect(guard.stats.storeChecks).toBe(checks + 1);
    await sessions.store.revokeUserSessions('rita', Date.now());
    await waitFor(async () => !(await guard.authenticate(token)).ok, 1000);
    expect(await guard.authenticate(token)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });
  });

  it('authenticateCached: a cached lookup without a promise, re-decided against the revocation set', async () => {
    const { sessionId, token } = await sessions.createSession('tess', ['user']);
    expect(guard.authenticateCached(token)).toBeUndefined();
    expect(perRequest.authenticateCached(token)).toBeUndefined();
    expect((await guard.authenticate(token)).ok).toBe(true);
    const checks = guard.stats.storeChecks;
    expect(guard.authenticateCached(token)).toMatchObject({
      ok: true,
      principal: { userId: 'tess', sessionId, roles: ['user'], claims: null },
    });
    expect(guard.stats.storeChecks).toBe(checks);
    await sessions.store.revokeSession(sessionId, Date.now());
    await waitFor(() => guard.authenticateCached(token)?.ok === false, 1000);
    expect(guard.authenticateCached(token)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });
  });

  it('request mode looks the session up on every request', async () => {
    const { token } = await sessions.createSession('sam');
    expect(perRequest.feedStatus()).toBeUndefined();
    const checks = perRequest.stats.storeChecks;
    for (let i = 0; i < 3; i++) expect((await perRequest.authenticate(token)).ok).toBe(true);
    expect(perRequest.stats.storeChecks).toBe(checks + 3);
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
    expect(text).toMatch(/tessera_guard_feed_lag_seconds \d/);
    expect(text).toMatch(/tessera_guard_store_checks_total \d+/);
  });
});
