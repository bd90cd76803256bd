// Guarded services under load, each next to its own baseline measured in the same run:
// guard on node:http vs raw node:http; orders (Express + guard) vs bare Express; profile
// (Fastify + guard) vs bare Fastify; opaque mode on node:http and on Express vs
// express-session + connect-redis; and the cost of a cold (first-seen) token.
import { createGuard } from '@tessera/guard';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type LoadResult, runLoad, startBenchServer } from './lib/load.ts';
import type { ChildService } from './lib/process.ts';
import { startBenchRedis } from './lib/redis.ts';
import { ratio } from './lib/results.ts';
import { addUser, type LoggedIn, loginUser, startAuthService, startTsService } from './lib/stack.ts';

type Row = LoadResult & { baseline: string; ratio: number };

function print(r: LoadResult): void {
  console.log(
    `  ${r.name.padEnd(48)} ${String(r.requestsPerSec).padStart(7)} req/s  p99 ${r.latencyP99Ms} ms  cpu ${r.serverCpuUsPerRequest} µs/req  non2xx ${r.non2xx}`,
  );
}

async function loadChild(name: string, service: ChildService, path: string, headers: Record<string, string>) {
  try {
    const result = await runLoad({ name, url: `${service.url}${path}`, headers, cpu: service.cpuUs });
    print(result);
    return result;
  } finally {
    await service.stop();
  }
}

async function loadForked(
  name: string,
  script: string,
  path: string,
  env: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const server = await startBenchServer(script, env);
  try {
    const result = await runLoad({
      name,
      url: `http://127.0.0.1:${server.port}${path}`,
      headers,
      cpu: server.cpu,
    });
    print(result);
    return result;
  } finally {
    await server.stop();
  }
}

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

    const raw = await loadForked('raw node:http', 'raw-node.ts', '/', {});
    const rawEcho = await loadForked(
      'raw node:http, same header in and principal out',
      'raw-node-echo.ts',
      '/',
      {},
      bearer(jwt.accessToken),
    );
    const guardNode = await loadForked(
      'node:http + guard (jwt, feed)',
      'guard-node.ts',
      '/',
      jwtEnv,
      bearer(jwt.accessToken),
    );
    const opaqueNode = await loadForked(
      'node:http + guard (opaque)',
      'guard-node.ts',
      '/',
      opaqueEnv,
      bearer(opaque.accessToken),
    );
    const bareExpress = await loadForked('bare Express 5', 'bare-express.ts', '/whoami', {});
    const orders = await loadChild(
      'orders example (Express + guard, jwt)',
      await startTsService('examples/shop/src/orders.ts', jwtEnv),
      '/whoami',
      bearer(jwt.accessToken),
    );
    const ordersOpaque = await loadChild(
      'orders example (Express + guard, opaque)',
      await startTsService('examples/shop/src/orders.ts', opaqueEnv),
      '/whoami',
      bearer(opaque.accessToken),
    );
    const bareFastify = await loadForked('bare Fastify 5', 'bare-fastify.ts', '/whoami', {});
    const profile = await loadChild(
      'profile example (Fastify + guard, jwt)',
      await startTsService('examples/shop/src/profile.ts', jwtEnv),
      '/whoami',
      bearer(jwt.accessToken),
    );
    const sessionServer = await startBenchServer('express-session-redis.ts', {
      TESSERA_REDIS_URL: redis.url,
    });
    const cookie =
      ((await fetch(`http://127.0.0.1:${sessionServer.port}/login`)).headers.get('set-cookie') ?? '').split(
        ';',
      )[0] ?? '';
    const expressSession = await runLoad({
      name: 'express-session + connect-redis',
      url: `http://127.0.0.1:${sessionServer.port}/whoami`,
      headers: { cookie },
      cpu: sessionServer.cpu,
    });
    print(expressSession);
    await sessionServer.stop();

    const row = (r: LoadResult, base: LoadResult): Row => ({
      ...r,
      baseline: base.name,
      ratio: ratio(r.requestsPerSec, base.requestsPerSec),
    });
    const rows: Row[] = [
      row(guardNode, raw),
      row(guardNode, rawEcho),
      row(opaqueNode, raw),
      row(orders, bareExpress),
      row(profile, bareFastify),
      row(ordersOpaque, expressSession),
      row(bareExpress, expressSession),
    ];
    const cold = await coldTokens(jwtAuth.url, redis.url, jwt.refreshToken as string);
    console.log(
      `  cold token: ${cold.coldUs} µs (jwtVerify + hash ${cold.joseVerifyPlusHashUs} µs), warm ${cold.warmUs} µs`,
    );
    return { baselines: [raw, rawEcho, bareExpress, bareFastify, expressSession], rows, cold };
  } finally {
    await jwtAuth.stop();
    await opaqueAuth.stop();
    await redis.stop();
  }
}
