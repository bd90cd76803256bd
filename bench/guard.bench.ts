// Guarded services under load, each next to its own baseline measured in the same run:
// guard on node:http vs raw node:http; orders (Express + guard) vs bare Express; profile
// (Fastify + guard) vs bare Fastify; opaque mode on node:http and on Express vs
// express-session + connect-redis; and the cost of a cold (first-seen) token.
import { createGuard } from '@tessera/guard';
import { startRedis as startBenchRedis } from '@tessera/testkit';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startBenchServer } from './lib/load.ts';
import { runRounds, type Scenario, type Target } from './lib/rounds.ts';
import { addUser, type LoggedIn, loginUser, startAuthService, startTsService } from './lib/stack.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** First-sight cost: the guard's authenticate on tokens it has never seen vs jose.jwtVerify + SHA-256. */
async function coldTokens(authUrl: string, redisUrl: string, refreshToken: string) {
  const tokens: string[] = [];
  let refresh = refreshToken;
  for (let i = 0; i < 600; i++) {
    const response = await fetch(`${authUrl}/v1/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: refresh }),
    });
    const body = (await response.json()) as { accessToken: string; refreshToken: string };
    tokens.push(body.accessToken);
    refresh = body.refreshToken;
  }
  const guard = createGuard({ authUrl, redis: { kind: 'single', url: redisUrl }, tokenMode: 'jwt' });
  await guard.ready();
  const metadata = (await (await fetch(`${authUrl}/.well-known/oauth-authorization-server`)).json()) as {
    issuer: string;
    jwks_uri: string;
  };
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  await jwtVerify(tokens[0] as string, jwks, { issuer: metadata.issuer, audience: 'tessera' });
  const { createHash } = await import('node:crypto');
  const timeEach = async (list: string[], fn: (t: string) => Promise<unknown>) => {
    const t0 = process.hrtime.bigint();
    for (const token of list) await fn(token);
    return Number(process.hrtime.bigint() - t0) / 1000 / list.length;
  };
  const joseVerify = async (t: string) => {
    createHash('sha256').update(t).digest();
    await jwtVerify(t, jwks, { issuer: metadata.issuer, audience: 'tessera' });
  };
  const guardVerify = (t: string) => guard.authenticate(t);
  // Both orders, on two halves of the tokens (each token is first-seen by each verifier), so
  // neither side profits from running second (JIT, caches).
  const half = Math.floor(tokens.length / 2);
  const [a, b] = [tokens.slice(1, half), tokens.slice(half)];
  const joseA = await timeEach(a, joseVerify);
  const coldA = await timeEach(a, guardVerify);
  const coldB = await timeEach(b, guardVerify);
  const joseB = await timeEach(b, joseVerify);
  const jose = (joseA + joseB) / 2;
  const cold = (coldA + coldB) / 2;
  const warm = await timeEach(tokens.slice(1), guardVerify);
  await guard.close();
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    coldUs: round(cold),
    warmUs: round(warm),
    joseVerifyPlusHashUs: round(jose),
    coldRatio: round(cold / jose),
  };
}

export async function runGuardBench() {
  const redis = await startBenchRedis();
  const jwtAuth = await startAuthService(redis);
  const opaqueAuth = await startAuthService(redis, { TESSERA_TOKEN_MODE: 'opaque' });
  try {
    await addUser(jwtAuth.url, 'alice', ['admin']);
    await addUser(opaqueAuth.url, 'alice', ['admin']);
    const jwt: LoggedIn = await loginUser(jwtAuth.url, 'alice');
    const opaque: LoggedIn = await loginUser(opaqueAuth.url, 'alice');
    const jwtEnv = { TESSERA_AUTH_URL: jwtAuth.url, TESSERA_REDIS_URL: redis.url, TESSERA_TOKEN_MODE: 'jwt' };
    const opaqueEnv = {
      TESSERA_AUTH_URL: opaqueAuth.url,
      TESSERA_REDIS_URL: redis.url,
      TESSERA_TOKEN_MODE: 'opaque',
    };
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

    const forked = async (script: string, env: Record<string, string>, headers = {}): Promise<Target> => {
      const server = await startBenchServer(script, env);
      return { url: `http://127.0.0.1:${server.port}`, cpu: server.cpu, stop: server.stop, headers };
    };
    const child = async (file: string, env: Record<string, string>, headers = {}): Promise<Target> => {
      const service = await startTsService(file, env);
      return { url: service.url, cpu: service.cpuUs, stop: service.stop, headers };
    };
    /** express-session's cookie, from the server's own `GET /login`. */
    const withSessionCookie = async (target: Target): Promise<Target> => {
      const setCookie = (await fetch(`${target.url}/login`)).headers.get('set-cookie') ?? '';
      return { ...target, headers: { cookie: setCookie.split(';')[0] ?? '' } };
    };
    const scenarios: Scenario[] = [
      { name: 'raw node:http', start: () => forked('raw-node.ts', {}), path: '/' },
      {
        name: 'raw node:http, same header in and principal out',
        start: () => forked('raw-node-echo.ts', {}, bearer(jwt.accessToken)),
        path: '/',
      },
      {
        name: 'node:http + guard (jwt, feed)',
        start: () => forked('guard-node.ts', jwtEnv, bearer(jwt.accessToken)),
        path: '/',
      },
      {
        name: 'node:http + guard (opaque)',
        start: () => forked('guard-node.ts', opaqueEnv, bearer(opaque.accessToken)),
        path: '/',
      },
      { name: 'bare Express 5', start: () => forked('bare-express.ts', {}), path: '/whoami' },
      {
        name: 'orders example (Express + guard, jwt)',
        start: () => child('examples/shop/src/orders.ts', jwtEnv, bearer(jwt.accessToken)),
        path: '/whoami',
      },
      {
        name: 'orders example (Express + guard, opaque)',
        start: () => child('examples/shop/src/orders.ts', opaqueEnv, bearer(opaque.accessToken)),
        path: '/whoami',
      },
      { name: 'bare Fastify 5', start: () => forked('bare-fastify.ts', {}), path: '/whoami' },
      {
        name: 'profile example (Fastify + guard, jwt)',
        start: () => child('examples/shop/src/profile.ts', jwtEnv, bearer(jwt.accessToken)),
        path: '/whoami',
      },
      {
        name: 'express-session + connect-redis',
        start: async () =>
          withSessionCookie(await forked('express-session-redis.ts', { TESSERA_REDIS_URL: redis.url })),
        path: '/whoami',
      },
    ];
    const { summary, row } = await runRounds(scenarios, ROUNDS);
    const rows = [
      row('node:http + guard (jwt, feed)', 'raw node:http'),
      row('node:http + guard (jwt, feed)', 'raw node:http, same header in and principal out'),
      row('node:http + guard (opaque)', 'raw node:http'),
      row('orders example (Express + guard, jwt)', 'bare Express 5'),
      row('profile example (Fastify + guard, jwt)', 'bare Fastify 5'),
      row('orders example (Express + guard, opaque)', 'express-session + connect-redis'),
      row('bare Express 5', 'express-session + connect-redis'),
    ];
    const baselines = [
      'raw node:http',
      'raw node:http, same header in and principal out',
      'bare Express 5',
      'bare Fastify 5',
      'express-session + connect-redis',
    ].map(summary);
    const cold = await coldTokens(jwtAuth.url, redis.url, jwt.refreshToken as string);
    console.log(
      `  cold token: ${cold.coldUs} µs (jwtVerify + hash ${cold.joseVerifyPlusHashUs} µs), warm ${cold.warmUs} µs`,
    );
    return { rounds: ROUNDS, baselines, rows, cold };
  } finally {
    await jwtAuth.stop();
    await opaqueAuth.stop();
    await redis.stop();
  }
}
