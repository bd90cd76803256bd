import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/testkit';
import type { JWK } from 'jose';
import { type RunningProcess, spawnNode } from '../../../examples/shop/src/testing/processes.ts';
import { recordSecret } from './secrets.ts';

export const ADMIN_TOKEN = 'admin-token-for-security-suite-0123456789';
export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256';
export const PASSWORDS: Record<string, string> = {
  alice: 'alice-correct-horse-battery',
  root: 'root-correct-horse-battery',
};

export interface TokenResponse {
  accessToken: string;
  refreshToken?: string;
  session: { id: string; userId: string };
}

export interface Stack {
  alg: SigningAlg;
  authUrl: string;
  /** Example services by name (orders: Express, profile: Fastify); empty when not started. */
  services: Partial<Record<'orders' | 'profile', string>>;
  serverEnv: Record<string, string>;
  /** The auth service's data dir (key file, users file). */
  dataDir: string;
  processes: RunningProcess[];
  /** Logs `username` in (status 200 expected); every token it returns is recorded as a secret. */
  login(username: string): Promise<TokenResponse>;
  /** The auth service's current private signing key (from its key file), for forging with the real key. */
  signingKey(): Promise<{ key: KeyObject; kid: string; publicJwk: JWK }>;
  /** Starts one more auth service on the same Redis and data dir (multi-instance races). */
  startAuthInstance(env?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

/** The environment every spawned process gets: nothing inherited but PATH and HOME. */
function serviceEnv(authUrl: string, redisUrl: string, mode: string): Record<string, string> {
  return {
    TESSERA_AUTH_URL: authUrl,
    TESSERA_REDIS_URL: redisUrl,
    TESSERA_TOKEN_MODE: mode,
    LOG_LEVEL: 'info',
  };
}

/**
 * The auth service (real process, real Redis) and, unless `services: false`, both example
 * services. Users `alice` (user) and `root` (user, admin) with the passwords in {@link PASSWORDS}.
 */
export async function startStack(options: {
  redisUrl: string;
  alg?: SigningAlg;
  mode?: 'jwt' | 'opaque';
  services?: boolean;
  env?: Record<string, string>;
}): Promise<Stack> {
  const alg = options.alg ?? 'EdDSA';
  const mode = options.mode ?? 'jwt';
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-security-'));
  const port = await freePort();
  const authUrl = `http://127.0.0.1:${port}`;
  const serverEnv: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    TESSERA_REDIS_URL: options.redisUrl,
    TESSERA_TOKEN_MODE: mode,
    TESSERA_SIGNING_ALG: alg,
    TESSERA_DATA_DIR: dataDir,
    TESSERA_USERS: `file:${join(dataDir, 'users.json')}`,
    TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
    TESSERA_ISSUER: authUrl,
    TESSERA_AUTH_URL: authUrl,
    TESSERA_COOKIE_SECURE: 'false',
    TESSERA_LOGIN_RATE_USER: '1000000',
    TESSERA_LOGIN_RATE_IP: '1000000',
    ...options.env,
  };
  recordSecret(ADMIN_TOKEN);
  const processes: RunningProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const startAuth = async (env: Record<string, string>) => {
    const running = await spawnNode(
      ['packages/server/bin/tessera.cjs', 'serve'],
      env,
      /listening on/,
      30_000,
    );
    processes.push(running);
    return running;
  };
  try {
    await startAuth(serverEnv);
    const services: Stack['services'] = {};
    if (options.services !== false) {
      await Promise.all(
        (['orders', 'profile'] as const).map(async (name) => {
          const servicePort = await freePort();
          const running = await spawnNode(
            ['--import', 'tsx', `examples/shop/src/${name}.ts`],
            { PORT: String(servicePort), HOST: '127.0.0.1', ...serviceEnv(authUrl, options.redisUrl, mode) },
            /listening on/,
            30_000,
          );
          processes.push(running);
          services[name] = `http://127.0.0.1:${servicePort}`;
        }),
      );
    }
    for (const [username, roles] of [
      ['alice', ['user']],
      ['root', ['user', 'admin']],
    ] as const) {
      const password = PASSWORDS[username] as string;
      recordSecret(password);
      const created = await fetch(`${authUrl}/v1/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password, roles }),
      });
      if (created.status !== 201) throw new Error(`could not create ${username}: ${created.status}`);
    }
    return {
      alg,
      authUrl,
      services,
      serverEnv,
      dataDir,
      processes,
      async login(username) {
        const response = await fetch(`${authUrl}/v1/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: PASSWORDS[username] }),
        });
        if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
        const body = (await response.json()) as TokenResponse;
        recordSecret(body.accessToken);
        if (body.refreshToken) recordSecret(body.refreshToken);
        return body;
      },
      async signingKey() {
        const file = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')) as {
          keys: (JWK & { kid: string; tessera?: unknown })[];
        };
        const jwks = (await (await fetch(`${authUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
        const current = file.keys.at(-1);
        if (!current) throw new Error('no key in the key file');
        const { tessera: _times, ...jwk } = current;
        const publicJwk = jwks.keys.find((k) => k.kid === current.kid);
        if (!publicJwk) throw new Error('current key not in the JWKS');
        return { key: createPrivateKey({ key: jwk as never, format: 'jwk' }), kid: current.kid, publicJwk };
      },
      async startAuthInstance(env = {}) {
        const extraPort = await freePort();
        await startAuth({ ...serverEnv, ...env, PORT: String(extraPort) });
        return `http://127.0.0.1:${extraPort}`;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
