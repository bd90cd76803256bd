import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRedisSessionReader } from '@tessera/core';
import { createRedisStore, StoreUnavailableError } from '@tessera/core/internal';
import { createGuard } from '@tessera/guard';
import {
  freePort,
  type RedisCluster,
  type RedisServer,
  rawCommand,
  startRedis,
  startRedisCluster,
  waitForClusterReplicas,
} from '@tessera/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbe } from './testing/failover-probe.ts';
import { runCli } from './testing/processes.ts';
import { type ShopStack, startShopStack } from './testing/shop-stack.ts';

/**
 * `tessera redis acl` applied to a fresh Redis (with TLS on a certificate made here) is
 * enough for a deployment: the auth service connects as `tessera-auth`, both example
 * services as `tessera-guard`, over `rediss://` — and `tessera-guard` cannot write a session.
 */

/** Machine tools (not npm packages): openssl makes the certificate, redis-cli applies the ACL. */
const OPENSSL = process.env.OPENSSL_BIN ?? 'openssl';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

const AUTH_PASSWORD = 'auth-password-for-tests-0123456789';
const GUARD_PASSWORD = 'guard-password-for-tests-0123456789';

describe('Redis ACL users from `tessera redis acl`, over TLS', () => {
  let dir: string;
  let redis: RedisServer;
  let tlsPort: number;
  let stack: ShopStack;
  let ca: string;
  const guardClients: Redis[] = [];

  const connectAs = async (user: string, password: string) => {
    const client = new Redis(`rediss://${user}:${password}@127.0.0.1:${tlsPort}`, {
      tls: { ca },
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    client.on('error', () => {});
    await client.connect();
    guardClients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
    execFileSync(
      OPENSSL,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tlsPort = await freePort();
    redis = await startRedis([
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(dir, 'cert.pem'),
      '--tls-key-file',
      join(dir, 'key.pem'),
      '--tls-auth-clients',
      'no',
    ]);
    const printed = await runCli(['redis', 'acl'], {
      TESSERA_REDIS_AUTH_PASSWORD: AUTH_PASSWORD,
      TESSERA_REDIS_GUARD_PASSWORD: GUARD_PASSWORD,
    });
    expect(printed.code).toBe(0);
    expect(printed.stdout).not.toContain(AUTH_PASSWORD);
    const missing = await runCli(['redis', 'acl'], { TESSERA_REDIS_AUTH_PASSWORD: AUTH_PASSWORD });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^tessera: TESSERA_REDIS_GUARD_PASSWORD: expected/);
    const applied = spawnSync(REDIS_CLI, ['-p', String(redis.port)], {
      input: printed.stdout,
      encoding: 'utf8',
    });
    expect(applied.stdout.trim().split('\n')).toEqual(['OK', 'OK']);
    stack = await startShopStack({
      mode: 'opaque',
      redisUrl: `rediss://tessera-auth:${AUTH_PASSWORD}@127.0.0.1:${tlsPort}`,
      servicesRedisUrl: `rediss://tessera-guard:${GUARD_PASSWORD}@127.0.0.1:${tlsPort}`,
      extraEnv: { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
      // A short idle timeout makes guard touches due after 1 s (idle / 20).
      authEnv: { TESSERA_IDLE_TIMEOUT: '20s' },
    });
  }, 60_000);
  afterAll(async () => {
    for (const client of guardClients) client.disconnect();
    await stack?.stop();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the auth service (tessera-auth) and both guards (tessera-guard) work over rediss://', async () => {
    const probe = createProbe(stack);
    const session = await probe.login('alice');
    expect((await stack.call('orders', '/whoami', session.token)).status).toBe(200);
    expect((await stack.call('profile', '/whoami', session.token)).status).toBe(200);
    expect(await probe.revoke(session, 'logout', 'alice')).toBe(204);
    for (const service of ['orders', 'profile'] as const) {
      await waitUntil(async () => (await stack.call(service, '/whoami', session.token)).status === 401);
    }
    // The CLI runs as tessera-auth too.
    const listed = await runCli(['sessions', 'list', '--user', 'alice'], stack.authEnv);
    expect(listed.code, listed.stderr).toBe(0);
    // No command was refused along the way.
    expect(await rawCommand(redis.port, ['ACL', 'LOG'])).toBe('*0\r\n');
  });

  it("guards' touches reach the session through the queue the auth service applies", async () => {
    const probe = createProbe(stack);
    const session = await probe.login('alice');
    const { userId } = (await (await stack.call('orders', '/whoami', session.token)).json()) as {
      userId: string;
    };
    const key = `tessera:{u:${userId}}:s:${session.sessionId}`;
    const before = await rawCommand(redis.port, ['HGET', key, 'ls']);
    await new Promise((r) => setTimeout(r, 1100)); // past the touch interval (idle / 20)
    await waitUntil(async () => {
      expect((await stack.call('profile', '/whoami', session.token)).status).toBe(200);
      return (await rawCommand(redis.port, ['HGET', key, 'ls'])) !== before;
    });
  });

  it('a tessera-guard connection cannot create, change or delete a session, read rate limits or trim the stream', async () => {
    const probe = createProbe(stack);
    const session = await probe.login('alice');
    const { userId } = (await (await stack.call('orders', '/whoami', session.token)).json()) as {
      userId: string;
    };
    const key = `tessera:{u:${userId}}:s:${session.sessionId}`;
    const guard = await connectAs('tessera-guard', GUARD_PASSWORD);
    expect(Object.keys(await guard.hgetall(key))).toContain('exp'); // what it may do
    const refused = [
      guard.hset(key, 'roles', 'admin'),
      guard.hdel(key, 'rv'),
      guard.del(key),
      guard.pexpire(key, 1),
      guard.rename(key, `${key}x`),
      guard.hset(`tessera:{u:${userId}}:s:forged`, 'uid', userId),
      guard.eval("return redis.call('HSET', KEYS[1], 'roles', 'admin')", 1, key),
      guard.zrange(`tessera:{u:${userId}}:idx`, 0, -1),
      guard.keys('tessera:*'),
      guard.scan('0'),
      guard.get('tessera:{rl:x}'),
      guard.zrange('tessera:{rl:x}', 0, -1),
      guard.xtrim('tessera:revocations', 'MAXLEN', 0),
      guard.xadd('tessera:revocations', '*', 'k', 's', 'sid', session.sessionId, 'until', '0'),
      guard.del('tessera:revocations'),
      guard.xrange('tessera:{tq:0}', '-', '+'),
      guard.flushall(),
      guard.config('GET', '*'),
      guard.publish('tessera', 'x'),
    ];
    for (const [i, attempt] of refused.entries()) {
      const error = await attempt.then(
        () => null,
        (e: unknown) => e,
      );
      expect(String(error), `attempt ${i}`).toMatch(/NOPERM/);
    }
    // The store's create script, run as the guard, is refused too (inside the script).
    const asStore = createRedisStore({ client: guard, revocationRetentionMs: 60_000, ownsClient: false });
    const created = await asStore.revokeSession(session.sessionId, Date.now()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(created).toBeInstanceOf(StoreUnavailableError);
    expect(Object.keys(await guard.hgetall(key))).toContain('exp'); // untouched
    expect((await stack.call('orders', '/whoami', session.token)).status).toBe(200);
  });

  it('a refused touch is reported (counted and logged by the guard), not silently dropped', async () => {
    // A guard user that lacks the touch: the same rules without `+xadd`.
    const printed = await runCli(['redis', 'acl'], {
      TESSERA_REDIS_AUTH_PASSWORD: AUTH_PASSWORD,
      TESSERA_REDIS_GUARD_PASSWORD: GUARD_PASSWORD,
    });
    const guardLine = printed.stdout.split('\n').find((l) => l.includes('tessera-guard')) ?? '';
    const args = guardLine.replace('tessera-guard', 'tessera-guard-old').replace(' +xadd', '').split(' ');
    await rawCommand(redis.port, args);
    const client = await connectAs('tessera-guard-old', GUARD_PASSWORD);
    const probe = createProbe(stack);
    const session = await probe.login('alice');
    // The reader (what the guard uses) rejects the refused touch as a store error naming the ACL.
    const reader = await openRedisSessionReader({ redis: client });
    const touched = await reader.touchSession(session.sessionId, Date.now(), 20_000, 1000).then(
      () => null,
      (e: unknown) => e,
    );
    await reader.close();
    expect(touched).toBeInstanceOf(StoreUnavailableError);
    expect((touched as Error).message).toMatch(/refused by a Redis ACL/);
    // The guard counts it and logs it (no Redis text in the log).
    const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const guard = createGuard({
      redis: client,
      tokenMode: 'opaque',
      idleTimeoutMs: 20_000,
      logger: { warn: (fields, message) => warnings.push({ fields, message }) },
      env: {},
    });
    try {
      await guard.ready();
      const result = await guard.authenticate(session.token);
      expect(result.ok).toBe(true);
      await waitUntil(async () => warnings.some((w) => w.fields.event === 'tessera_guard_touch_failed'));
      const warning = warnings.find((w) => w.fields.event === 'tessera_guard_touch_failed');
      expect(warning?.fields.reason).toMatch(/refused by a Redis ACL/);
      expect(JSON.stringify(warning)).not.toMatch(/NOPERM/);
      expect(guard.stats.touchFailures).toBe(1);
    } finally {
      await guard.close();
    }
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Redis ACL users on a 3×2 cluster (credentials in the cluster seeds)', () => {
  let cluster: RedisCluster;
  let stack: ShopStack;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    await waitForClusterReplicas(cluster);
    const printed = await runCli(['redis', 'acl'], {
      TESSERA_REDIS_AUTH_PASSWORD: AUTH_PASSWORD,
      TESSERA_REDIS_GUARD_PASSWORD: GUARD_PASSWORD,
    });
    // ACLs are per server: every master and every replica.
    for (const server of cluster.servers) {
      const applied = spawnSync(REDIS_CLI, ['-p', String(server.port)], {
        input: printed.stdout,
        encoding: 'utf8',
      });
      expect(applied.stdout.trim().split('\n')).toEqual(['OK', 'OK']);
    }
    const seeds = (user: string, password: string) =>
      cluster.nodes
        .map((n, i) => (i === 0 ? `redis://${user}:${password}@${n.host}:${n.port}` : `${n.host}:${n.port}`))
        .join(',');
    stack = await startShopStack({
      mode: 'jwt',
      redisEnv: { TESSERA_REDIS_CLUSTER: seeds('tessera-auth', AUTH_PASSWORD) },
      servicesRedisEnv: { TESSERA_REDIS_CLUSTER: seeds('tessera-guard', GUARD_PASSWORD) },
      authEnv: { TESSERA_REDIS_WAIT_REPLICAS: '1' },
    });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
  });

  it('logins, both guards, a replicated revocation and the CLI work with nothing refused', async () => {
    const probe = createProbe(stack);
    const session = await probe.login('alice');
    expect((await stack.call('orders', '/whoami', session.token)).status).toBe(200);
    expect((await stack.call('profile', '/whoami', session.token)).status).toBe(200);
    expect(await probe.revoke(session, 'logout', 'alice')).toBe(204); // WAIT 1 as tessera-auth
    for (const service of ['orders', 'profile'] as const) {
      await waitUntil(async () => (await stack.call(service, '/whoami', session.token)).status === 401);
    }
    expect((await runCli(['sessions', 'list', '--user', 'root'], stack.authEnv)).code).toBe(0);
    for (const server of cluster.servers) {
      const log = (await rawCommand(server.port, ['ACL', 'LOG'])).replace(/\r\n\$\d+\r\n|\r\n/g, ' ');
      expect(log, log).toBe('*0 ');
    }
  });
});
