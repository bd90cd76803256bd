import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisCluster, startRedisCluster, waitForClusterReplicas } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningProcess, spawnNode } from './testing/processes.ts';
import { ADMIN_TOKEN } from './testing/shop-stack.ts';

/**
 * Two `tessera serve` processes on one 3×2 Redis Cluster, sharing keys and users: the
 * store's scripts, not the processes, decide races.
 */
describe('two auth instances on one cluster', () => {
  let cluster: RedisCluster;
  let dataDir: string;
  const instances: RunningProcess[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    await waitForClusterReplicas(cluster);
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-multi-'));
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const env = {
        PORT: String(port),
        HOST: '127.0.0.1',
        TESSERA_REDIS_CLUSTER: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','),
        TESSERA_REDIS_WAIT_REPLICAS: '1',
        TESSERA_DATA_DIR: dataDir,
        TESSERA_USERS: `file:${join(dataDir, 'users.json')}`,
        TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
        TESSERA_ISSUER: 'http://tessera.test', // one issuer for both
        TESSERA_CONCURRENCY: 'reject',
        TESSERA_COOKIE_SECURE: 'false',
        TESSERA_LOGIN_RATE_USER: '100000',
        TESSERA_LOGIN_RATE_IP: '100000',
      };
      // One after the other: the first generates the key set in the shared data dir.
      instances.push(await spawnNode(['packages/server/bin/tessera.cjs', 'serve'], env, /listening on/));
      urls.push(`http://127.0.0.1:${port}`);
    }
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${urls[0]}/v1/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: `racer${i}`, password: `racer${i}-password-123`, roles: [] }),
      });
      expect(response.status).toBe(201);
    }
  }, 90_000);
  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('racing logins with `reject` create exactly one session per user', async () => {
    for (let user = 0; user < 3; user++) {
      const username = `racer${user}`;
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          post(urls[i % 2] as string, '/v1/login', { username, password: `${username}-password-123` }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(
        statuses.filter((s) => s === 200),
        statuses.join(','),
      ).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(9);
      const listed = await fetch(`${urls[1]}/v1/admin/users/${username}/sessions`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(((await listed.json()) as { sessions: unknown[] }).sessions).toHaveLength(1);
    }
  });

  it('a refresh racing a revoke-all on the other instance never leaves a working session', async () => {
    for (let user = 3; user < 6; user++) {
      const username = `racer${user}`;
      const login = await post(urls[0] as string, '/v1/login', {
        username,
        password: `${username}-password-123`,
      });
      expect(login.status).toBe(200);
      const first = (await login.json()) as { accessToken: string; refreshToken: string };
      // Chains of refreshes on instance A while instance B revokes every session of the user.
      const tokens: Array<{ accessToken: string; refreshToken: string }> = [first];
      let refreshToken = first.refreshToken;
      const refreshing = (async () => {
        for (let i = 0; i < 15; i++) {
          const answer = await post(urls[i % 2] as string, '/v1/refresh', { refreshToken });
          if (answer.status !== 200) {
            expect([401, 503]).toContain(answer.status);
            await answer.arrayBuffer();
            if (answer.status === 401) return;
            continue;
          }
          const next = (await answer.json()) as { accessToken: string; refreshToken: string };
          tokens.push(next);
          refreshToken = next.refreshToken;
        }
      })();
      await new Promise((r) => setTimeout(r, 5 * user));
      const revoked = await fetch(`${urls[1]}/v1/admin/users/${username}/sessions`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(revoked.status).toBe(204);
      await refreshing;
      console.log(
        `[multi-instance] ${username}: ${tokens.length - 1} refreshes succeeded around the revoke-all`,
      );
      // After the revoke-all answered: every token ever issued is refused by both instances.
      for (const token of tokens) {
        for (const base of urls) {
          const refreshed = await post(base, '/v1/refresh', { refreshToken: token.refreshToken });
          expect(refreshed.status).toBe(401);
          await refreshed.arrayBuffer();
          const authorized = await fetch(`${base}/v1/authorize`, {
            headers: { authorization: `Bearer ${token.accessToken}` },
          });
          expect(authorized.status).toBe(401);
          const session = await fetch(`${base}/v1/session`, {
            headers: { authorization: `Bearer ${token.accessToken}` },
          });
          expect(session.status).toBe(401);
        }
      }
      const listed = await fetch(`${urls[0]}/v1/admin/users/${username}/sessions`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(((await listed.json()) as { sessions: unknown[] }).sessions).toHaveLength(0);
    }
  });
});
