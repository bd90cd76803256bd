// HTTP load benchmarks: baselines and guarded services, each reported as a ratio to raw
// node:http (or to its own framework) measured in the same invocation.

import { startRedis as startBenchRedis } from '@tessera/testkit';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type LoadResult, measureServer } from './lib/load.ts';
import { ratio } from './lib/results.ts';

export interface HttpBenchResult {
  results: Array<LoadResult & { ratioToRaw: number }>;
}

async function benchToken(): Promise<{ token: string; jwks: string }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA', use: 'sig' };
  const token = await new SignJWT({ sid: 'u1.AAAAAAAAAAAAAAAAAAAAAA', roles: ['admin'] })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: 'at+jwt' })
    .setIssuer('http://bench')
    .setAudience('tessera')
    .setSubject('u1')
    .setIssuedAt()
    .setExpirationTime('1h')
    .setJti('bench')
    .sign(privateKey);
  return { token, jwks: JSON.stringify({ keys: [jwk] }) };
}

/** Cookie of a fresh express-session, taken from its /login route. */
async function expressSessionCookie(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/login`);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

export async function runHttpBench(): Promise<HttpBenchResult> {
  const redis = await startBenchRedis();
  try {
    const env = { TESSERA_REDIS_URL: redis.url };
    const { token, jwks } = await benchToken();
    const results: LoadResult[] = [];
    const step = (r: LoadResult) => {
      results.push(r);
      console.log(
        `  ${r.name.padEnd(44)} ${String(r.requestsPerSec).padStart(7)} req/s  p99 ${r.latencyP99Ms} ms  cpu ${r.serverCpuUsPerRequest} µs/req`,
      );
    };
    step(await measureServer('raw node:http', 'raw-node.ts', '/'));
    step(
      await measureServer('node:http + jose.jwtVerify (EdDSA) per request', 'raw-jwt-verify.ts', '/', {
        env: { BENCH_JWKS: jwks, TESSERA_ISSUER: 'http://bench' },
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    step(await measureServer('node:http + one Redis GET per request', 'raw-redis-get.ts', '/', { env }));
    step(await measureServer('bare Fastify 5', 'bare-fastify.ts', '/whoami'));
    step(await measureServer('bare Express 5', 'bare-express.ts', '/whoami'));
    {
      const { startBenchServer, runLoad } = await import('./lib/load.ts');
      const server = await startBenchServer('express-session-redis.ts', env);
      try {
        const cookie = await expressSessionCookie(server.port);
        step(
          await runLoad({
            name: 'express-session + connect-redis',
            url: `http://127.0.0.1:${server.port}/whoami`,
            headers: { cookie },
            cpu: server.cpu,
          }),
        );
      } finally {
        await server.stop();
      }
    }
    const raw = results[0]?.requestsPerSec ?? 0;
    return { results: results.map((r) => ({ ...r, ratioToRaw: ratio(r.requestsPerSec, raw) })) };
  } finally {
    await redis.stop();
  }
}
