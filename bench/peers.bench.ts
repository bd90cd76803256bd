// Tessera against what a team would pick instead, and the gateway path, in one run: each
// server its own process, the same route (GET /whoami, a JSON principal), the same load
// (autocannon -c 50), alternating rounds (bench/lib/rounds.ts).
// - Express + guard (jwt) vs Express + express-jwt + jwks-rsa: RS256 on both sides, because
//   express-jwt (jsonwebtoken) cannot verify EdDSA. The guard verifies a token once and checks
//   revocation on every request; express-jwt verifies the signature on every request and
//   checks no revocation.
// - Express + guard (jwt, default EdDSA) vs Express + a bare jose jwtVerify (EdDSA), no revocation.
// - Express + guard (opaque) vs express-session + connect-redis and vs Better Auth's
//   getSession on its Redis secondary storage (neither sees a revocation before its next
//   Redis read; both read Redis on every request).
// - The gateway path: the auth service's GET /v1/authorize (default EdDSA tokens, default
//   LOG_LEVEL=info, stdout to /dev/null) vs bare Fastify answering the same route shape.
import { startRedis } from '@tessera/testkit';
import { startBenchServer } from './lib/load.ts';
import { runRounds, type Scenario, type Target } from './lib/rounds.ts';
import { addUser, loginUser, startAuthService, startTsService } from './lib/stack.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export async function runPeersBench() {
  const redis = await startRedis();
  const eddsa = await startAuthService(redis);
  const rs256 = await startAuthService(redis, { TESSERA_SIGNING_ALG: 'RS256' });
  const opaque = await startAuthService(redis, { TESSERA_TOKEN_MODE: 'opaque' });
  try {
    for (const auth of [eddsa, rs256, opaque]) await addUser(auth.url, 'alice', ['admin']);
    const tokens = {
      eddsa: (await loginUser(eddsa.url, 'alice')).accessToken,
      rs256: (await loginUser(rs256.url, 'alice')).accessToken,
      opaque: (await loginUser(opaque.url, 'alice')).accessToken,
    };
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const guardEnv = (auth: { url: string }, mode: 'jwt' | 'opaque') => ({
      TESSERA_AUTH_URL: auth.url,
      TESSERA_REDIS_URL: redis.url,
      TESSERA_TOKEN_MODE: mode,
    });
    const forked = async (script: string, env: Record<string, string>, headers = {}): Promise<Target> => {
      const server = await startBenchServer(script, env);
      return { url: `http://127.0.0.1:${server.port}`, cpu: server.cpu, stop: server.stop, headers };
    };
    const child = async (file: string, env: Record<string, string>, headers = {}): Promise<Target> => {
      const service = await startTsService(file, env);
      return { url: service.url, cpu: service.cpuUs, stop: service.stop, headers };
    };
    /** A server whose GET /login hands out a session cookie (express-session, Better Auth). */
    const withCookie = async (script: string): Promise<Target> => {
      const target = await forked(script, { TESSERA_REDIS_URL: redis.url });
      const response = await fetch(`${target.url}/login`);
      const cookie = response.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      return { ...target, headers: { cookie } };
    };
    const ORDERS = 'examples/shop/src/orders.ts';
    const scenarios: Scenario[] = [
      { name: 'bare Express 5', start: () => forked('bare-express.ts', {}), path: '/whoami' },
      {
        name: 'Express + Tessera guard (jwt, RS256)',
        start: () => child(ORDERS, guardEnv(rs256, 'jwt'), bearer(tokens.rs256)),
        path: '/whoami',
      },
      {
        name: 'Express + express-jwt + jwks-rsa (RS256)',
        start: () => forked('express-jwt-jwks.ts', { TESSERA_AUTH_URL: rs256.url }, bearer(tokens.rs256)),
        path: '/whoami',
      },
      {
        name: 'Express + Tessera guard (jwt, EdDSA)',
        start: () => child(ORDERS, guardEnv(eddsa, 'jwt'), bearer(tokens.eddsa)),
        path: '/whoami',
      },
      {
        name: 'Express + jose.jwtVerify (EdDSA)',
        start: () => forked('express-jose.ts', { TESSERA_AUTH_URL: eddsa.url }, bearer(tokens.eddsa)),
        path: '/whoami',
      },
      {
        name: 'Express + Tessera guard (opaque)',
        start: () => child(ORDERS, guardEnv(opaque, 'opaque'), bearer(tokens.opaque)),
        path: '/whoami',
      },
      {
        name: 'express-session + connect-redis',
        start: () => withCookie('express-session-redis.ts'),
        path: '/whoami',
      },
      {
        name: 'Express + Better Auth getSession (Redis secondary storage)',
        start: () => withCookie('better-auth-redis.ts'),
        path: '/whoami',
      },
      { name: 'bare Fastify 5', start: () => forked('bare-fastify.ts', {}), path: '/whoami' },
      {
        name: 'Fastify stub: same header in, identity headers out',
        start: () => forked('bare-fastify-forward-auth.ts', {}, bearer(tokens.eddsa)),
        path: '/v1/authorize',
      },
      {
        name: 'auth service GET /v1/authorize (EdDSA, LOG_LEVEL=info)',
        start: async () => {
          const auth = await startAuthService(redis, { LOG_LEVEL: 'info' });
          await addUser(auth.url, 'alice', ['admin']);
          const { accessToken } = await loginUser(auth.url, 'alice');
          return { url: auth.url, cpu: auth.cpuUs, stop: auth.stop, headers: bearer(accessToken) };
        },
        path: '/v1/authorize',
      },
    ];
    const { row, all } = await runRounds(scenarios, ROUNDS);
    const rows = [
      row('Express + Tessera guard (jwt, RS256)', 'Express + express-jwt + jwks-rsa (RS256)'),
      row('Express + Tessera guard (jwt, EdDSA)', 'Express + express-jwt + jwks-rsa (RS256)'),
      row('Express + Tessera guard (jwt, EdDSA)', 'Express + jose.jwtVerify (EdDSA)'),
      row('Express + Tessera guard (opaque)', 'express-session + connect-redis'),
      row('Express + Tessera guard (opaque)', 'Express + Better Auth getSession (Redis secondary storage)'),
      row('Express + Tessera guard (jwt, EdDSA)', 'bare Express 5'),
      row('auth service GET /v1/authorize (EdDSA, LOG_LEVEL=info)', 'bare Fastify 5'),
      row(
        'auth service GET /v1/authorize (EdDSA, LOG_LEVEL=info)',
        'Fastify stub: same header in, identity headers out',
      ),
    ];
    return { rounds: ROUNDS, scenarios: all(), rows };
  } finally {
    await eddsa.stop();
    await rs256.stop();
    await opaque.stop();
    await redis.stop();
  }
}
