import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RunningProcess, spawnNode } from './processes.ts';

export const ADMIN_TOKEN = 'admin-token-for-e2e-0123456789abcdef';
export type ServiceName = 'orders' | 'profile';

/** The auth service, its users and both example services, each a real process. */
export interface ShopStack {
  authUrl: string;
  /** Environment of the auth service (and its CLI). */
  authEnv: Record<string, string>;
  services: Record<ServiceName, { url: string; process: RunningProcess }>;
  /** Logs in; returns the access (jwt) or session (opaque) token and the session id. */
  login(username: string): Promise<{ token: string; sessionId: string }>;
  call(service: ServiceName, path: string, token?: string): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts the stack; users `alice` (user) and `root` (user, admin), password `<name>-password-123`. */
export async function startShopStack(options: {
  mode: 'jwt' | 'opaque';
  redisUrl?: string;
  /** Where the example services reach Redis (e.g. through a proxy). @default redisUrl */
  servicesRedisUrl?: string;
  /** More environment for the auth service (e.g. TESSERA_SSF_TRUSTED_ISSUERS, TESSERA_ALLOWED_ORIGINS). */
  authEnv?: Record<string, string>;
  /** Instead of `redisUrl`: where every process reaches Redis (`TESSERA_REDIS_SENTINELS`…, `TESSERA_REDIS_CLUSTER`). */
  redisEnv?: Record<string, string>;
  /** Where the example services reach Redis, when not as the auth service does (another Redis user). */
  servicesRedisEnv?: Record<string, string>;
  /** More environment for every process (e.g. `NODE_EXTRA_CA_CERTS`). */
  extraEnv?: Record<string, string>;
}): Promise<ShopStack> {
  const redisEnv = options.redisEnv ?? { TESSERA_REDIS_URL: options.redisUrl ?? '' };
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-shop-'));
  const port = await freePort();
  const authUrl = `http://127.0.0.1:${port}`;
  const authEnv = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ...redisEnv,
    TESSERA_TOKEN_MODE: options.mode,
    TESSERA_DATA_DIR: dataDir,
    TESSERA_USERS: `file:${join(dataDir, 'users.json')}`,
    TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
    TESSERA_AUTH_URL: authUrl,
    TESSERA_COOKIE_SECURE: 'false',
    TESSERA_LOGIN_RATE_USER: '100000',
    TESSERA_LOGIN_RATE_IP: '100000',
    ...options.extraEnv,
    ...options.authEnv,
  };
  const started: RunningProcess[] = [];
  const stop = async () => {
    for (const running of started.reverse()) await running.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    started.push(await spawnNode(['packages/server/bin/tessera.cjs', 'serve'], authEnv, /listening on/));
    const services = {} as ShopStack['services'];
    for (const name of ['orders', 'profile'] as const) {
      const servicePort = await freePort();
      const running = await spawnNode(
        ['--import', 'tsx', `examples/shop/src/${name}.ts`],
        {
          PORT: String(servicePort),
          TESSERA_AUTH_URL: authUrl,
          ...(options.servicesRedisUrl
            ? { TESSERA_REDIS_URL: options.servicesRedisUrl }
            : (options.servicesRedisEnv ?? redisEnv)),
          TESSERA_TOKEN_MODE: options.mode,
          ...options.extraEnv,
        },
        /listening on/,
      );
      started.push(running);
      services[name] = { url: `http://127.0.0.1:${servicePort}`, process: running };
    }
    for (const [username, roles] of [
      ['alice', ['user']],
      ['root', ['user', 'admin']],
    ] as const) {
      const created = await fetch(`${authUrl}/v1/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: `${username}-password-123`, roles }),
      });
      if (created.status !== 201) throw new Error(`could not create ${username}: ${created.status}`);
    }
    return {
      authUrl,
      authEnv,
      services,
      async login(username) {
        const response = await fetch(`${authUrl}/v1/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: `${username}-password-123` }),
        });
        if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
        const body = (await response.json()) as { accessToken: string; session: { id: string } };
        return { token: body.accessToken, sessionId: body.session.id };
      },
      call: (service, path, token) =>
        fetch(
          `${services[service].url}${path}`,
          token ? { headers: { authorization: `Bearer ${token}` } } : {},
        ),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
