import { type RedisServer, startRedis, startTcpProxy, type TcpProxy, waitFor } from '@tessera/testkit';
import {
  type KeyServer,
  openSessionFixture,
  type SessionFixture,
  startKeyServer,
} from '@tessera/testkit/fixtures';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../index.ts';

let redis: RedisServer;
let keys: KeyServer;
let sessions: SessionFixture;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await startRedis();
  keys = await startKeyServer();
  sessions = await openSessionFixture(redis.url);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await sessions?.close();
  await keys?.close();
  await redis?.stop();
});

async function guardVia(url: string, extra: Parameters<typeof createGuard>[0] = {}): Promise<Guard> {
  const guard = createGuard({ authUrl: keys.url, redis: { kind: 'single', url }, env: {}, ...extra });
  cleanups.push(() => guard.close());
  await guard.ready();
  return guard;
}

async function proxy(): Promise<TcpProxy> {
  const p = await startTcpProxy(redis.port);
  cleanups.push(() => p.close());
  return p;
}

async function login(userId: string, roles = ['user']) {
  const { sessionId } = await sessions.createSession(userId, roles);
  return { sessionId, token: await keys.sign({ sub: userId, sid: sessionId, roles }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('revocation feed under failure', () => {
  it('never accepts a session revoked while the guard was cut off from Redis, and refuses it after reconnecting', async () => {
    const link = await proxy();
    const guard = await guardVia(link.url);
    const victim = await login('ivy');
    expect((await guard.authenticate(victim.token)).ok).toBe(true);
    link.cut();
    // The guard notices a closed connection on its next I/O poll; a silent partition only
    // after TESSERA_FEED_MAX_LAG (next test). The revocation happens once it is cut off.
    await waitFor(() => guard.feedStatus()?.current === false, 1000);
    await sessions.store.revokeSession(victim.sessionId, Date.now());
    for (let i = 0; i < 20; i++) {
      const during = await guard.authenticate(victim.token);
      expect(during.ok).toBe(false);
      await sleep(10);
    }
    expect(await guard.authenticate(victim.token)).toMatchObject({
      ok: false,
      error: { code: 'store_unavailable', status: 503 },
    });
    link.restore();
    await waitFor(() => guard.feedStatus()?.current === true, 5000);
    expect(await guard.authenticate(victim.token)).toMatchObject({
      ok: false,
      error: { code: 'session_revoked' },
    });
  });

  it('refuses a revocation it lost when the stream was trimmed past its position (reload + per-request check)', async () => {
    const link = await proxy();
    const guard = await guardVia(link.url);
    const victim = await login('jack');
    const bystander = await login('kate');
    expect((await guard.authenticate(victim.token)).ok).toBe(true);
    expect((await guard.authenticate(bystander.token)).ok).toBe(true);
    link.cut();
    await waitFor(() => guard.feedStatus()?.current === false, 1000);
    await sessions.store.revokeSession(victim.sessionId, Date.now());
    await redis.command('XTRIM', 'tessera:revocations', 'MAXLEN', '0');
    link.restore();
    await waitFor(() => guard.feedStatus()?.current === true, 5000);
    expect(guard.feedStatus()?.reloads).toBe(1);
    expect(await guard.authenticate(victim.token)).toMatchObject({
      ok: false,
      error: { code: 'session_revoked' },
    });
    const checks = guard.stats.storeChecks;
    expect((await guard.authenticate(bystander.token)).ok).toBe(true);
    expect(guard.stats.storeChecks).toBe(checks + 1);
    // A token issued after the reload's second is not suspect.
    const reloadedSec = Math.floor(Date.now() / 1000);
    await waitFor(() => Math.floor(Date.now() / 1000) > reloadedSec, 2000);
    const fresh = await keys.sign({ sub: 'kate', sid: bystander.sessionId, roles: ['user'] });
    expect((await guard.authenticate(fresh)).ok).toBe(true);
    expect(guard.stats.storeChecks).toBe(checks + 1);
  });

  it('checks Redis per request while the feed is silent longer than the max lag', async () => {
    const link = await proxy();
    const guard = await guardVia(link.url, { store: sessions.store, feedMaxLagMs: 300 });
    const victim = await login('liam');
    expect((await guard.authenticate(victim.token)).ok).toBe(true);
    link.blackhole();
    await waitFor(() => guard.feedStatus()?.current === false, 2000);
    expect(guard.feedStatus()?.current).toBe(false);
    await sessions.store.revokeSession(victim.sessionId, Date.now());
    expect(await guard.authenticate(victim.token)).toMatchObject({
      ok: false,
      error: { code: 'session_revoked' },
    });
    link.cut();
    link.restore();
    await waitFor(() => guard.feedStatus()?.current === true, 5000);
    expect(await guard.authenticate(victim.token)).toMatchObject({
      ok: false,
      error: { code: 'session_revoked' },
    });
  });

  it('fails closed with 503 when Redis is down, and open only when configured (counted)', async () => {
    const own = await startRedis();
    cleanups.push(() => own.stop());
    const ownSessions = await openSessionFixture(own.url);
    cleanups.push(() => ownSessions.close());
    const closed = await guardVia(own.url);
    const registry = new Registry();
    const warnings: string[] = [];
    const open = await guardVia(own.url, {
      failOpen: true,
      registry,
      logger: { warn: (_fields, message) => warnings.push(message) },
    });
    const { sessionId } = await ownSessions.createSession('mia');
    const token = await keys.sign({ sub: 'mia', sid: sessionId });
    expect((await closed.authenticate(token)).ok).toBe(true);
    expect((await open.authenticate(token)).ok).toBe(true);
    await own.stop();
    await waitFor(() => closed.feedStatus()?.current === false, 3000);
    const refused = await closed.authenticate(token);
    expect(refused).toMatchObject({ ok: false, error: { code: 'store_unavailable', status: 503 } });
    await waitFor(() => open.feedStatus()?.current === false, 3000);
    expect((await open.authenticate(token)).ok).toBe(true);
    expect(open.stats.failOpen).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(await registry.metrics()).toMatch(/tessera_guard_fail_open_total 1/);
    expect(await registry.metrics()).toMatch(
      /tessera_guard_decisions_total\{outcome="allowed_fail_open"\} 1/,
    );
  });

  it('after Redis restarts empty on the same port, refuses sessions it can no longer vouch for', async () => {
    const own = await startRedis();
    const ownSessions = await openSessionFixture(own.url);
    cleanups.push(() => ownSessions.close());
    const guard = await guardVia(own.url);
    const { sessionId } = await ownSessions.createSession('nora');
    const token = await keys.sign({ sub: 'nora', sid: sessionId });
    expect((await guard.authenticate(token)).ok).toBe(true);
    await own.stop();
    const again = await startRedis([], own.port);
    cleanups.push(() => again.stop());
    await waitFor(() => guard.feedStatus()?.current === true, 5000);
    expect(await guard.authenticate(token)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });
  });
});

describe('TESSERA_REVOCATION_CHECK=request', () => {
  it('asks Redis on every request and refuses a revoked session at once', async () => {
    const guard = await guardVia(redis.url, { revocationCheck: 'request' });
    expect(guard.feedStatus()).toBeUndefined();
    const { sessionId, token } = await login('olga');
    expect((await guard.authenticate(token)).ok).toBe(true);
    expect((await guard.authenticate(token)).ok).toBe(true);
    expect(guard.stats.storeChecks).toBe(2);
    await sessions.store.revokeSession(sessionId, Date.now());
    expect(await guard.authenticate(token)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });
  });
});
