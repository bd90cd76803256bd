import { cutReplica, type RedisServer, startRedis, waitForReplicaLink } from '@tessera/testkit';
import { createTestApp, type TestApp } from '@tessera/testkit/auth-service';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A revocation no replica confirmed in time: 503 store_unavailable + Retry-After, counted and
 * logged, and held by this instance (authorize, refresh) while a failover could still lose it.
 */
describe('revocations wait for a replica (HTTP)', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let t: TestApp;
  beforeAll(async () => {
    master = await startRedis(['--repl-diskless-sync-delay', '0']);
    replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
    await waitForReplicaLink(replica.port);
    t = await createTestApp({
      TESSERA_REDIS_URL: master.url,
      TESSERA_REDIS_WAIT_REPLICAS: '1',
      TESSERA_REDIS_WAIT_TIMEOUT: '1s',
    });
    await t.addUser('alice', 'alice-password-123');
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([replica?.stop(), master?.stop()]);
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('a confirmed logout is 204', async () => {
    const { accessToken } = (await t.login('alice', 'alice-password-123')).json() as { accessToken: string };
    const out = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(accessToken) });
    expect(out.statusCode).toBe(204);
  });

  it('an unconfirmed logout is 503 with Retry-After, refused here meanwhile, counted and logged', async () => {
    const login = (await t.login('alice', 'alice-password-123')).json() as {
      accessToken: string;
      refreshToken: string;
    };
    const session = (login as unknown as { session: { id: string; userId: string } }).session;
    const key = `tessera:{u:${session.userId}}:s:${session.id}`;
    const raw = new Redis(master.port, '127.0.0.1');
    const dump = await raw.dumpBuffer(key);
    const resume = await cutReplica(master.port, replica.pid);
    try {
      const out = await t.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: bearer(login.accessToken),
      });
      expect(out.statusCode).toBe(503);
      expect(out.headers['retry-after']).toBe('1');
      expect(out.json()).toMatchObject({ code: 'store_unavailable', status: 503 });
      expect(out.body).not.toMatch(/NOPERM|ERR|stack/);
    } finally {
      resume();
    }
    await waitForReplicaLink(replica.port);
    // As if a failover had lost the revocation: the session is back in Redis.
    await raw.restore(key, 0, dump as Buffer);
    raw.disconnect();
    // Held locally all the same.
    const authorize = await t.app.inject({ url: '/v1/authorize', headers: bearer(login.accessToken) });
    expect(authorize.statusCode).toBe(401);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refreshToken: login.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    const metrics = await t.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/^tessera_replica_wait_timeouts_total 1$/m);
    expect(t.logs.some((line) => line.includes('revocation not confirmed by a replica in time'))).toBe(true);
    // The client's retry runs the revocation again on the resurrected session, confirmed now.
    const retry = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: bearer(login.accessToken),
    });
    expect(retry.statusCode).toBe(204);
  });
});
