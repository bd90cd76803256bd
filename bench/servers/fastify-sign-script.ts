// Baseline for refreshes through HTTP: bare Fastify 5, POST /refresh with a JSON body, one
// EdDSA signature (jose, the access token's claims) plus one Redis script call (ioredis
// EVALSHA: HSET + PEXPIRE on a session-shaped key) per request: what a refresh must do at least.
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { reportReady } from '../lib/load.ts';

const redis = new Redis(process.env.TESSERA_REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.defineCommand('rotate', {
  numberOfKeys: 1,
  lua: "redis.call('HSET', KEYS[1], 'rh', ARGV[1]); redis.call('PEXPIRE', KEYS[1], 60000); return 1",
});
const rotate = (redis as unknown as { rotate: (key: string, value: string) => Promise<number> }).rotate.bind(
  redis,
);
const { privateKey, publicKey } = await generateKeyPair('EdDSA');
const kid = (await exportJWK(publicKey)).x ?? 'k';
let n = 0;
const app = Fastify({ logger: false });
app.post('/refresh', async (request, reply) => {
  const body = request.body as { refreshToken?: unknown } | undefined;
  if (typeof body?.refreshToken !== 'string') return reply.code(400).send();
  const user = `bench${n++ % 50}`;
  const accessToken = await new SignJWT({ sid: `${user}.s`, roles: ['user'] })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .setIssuer('http://bench')
    .setAudience('tessera')
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime('10m')
    .setJti(randomBytes(16).toString('base64url'))
    .sign(privateKey);
  await rotate(`bench:{u:${user}}:s`, randomBytes(32).toString('base64url'));
  return {
    accessToken,
    // As long as a Tessera refresh token (session id + secret, ~92 characters): the client
    // sends it back on the next request, as it does with the service's.
    refreshToken: randomBytes(69).toString('base64url'),
    tokenType: 'Bearer',
    expiresIn: 600,
  };
});
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const address = app.server.address();
if (address && typeof address === 'object') reportReady(address.port);
process.on('SIGTERM', () => void app.close().then(() => redis.quit().finally(() => process.exit(0))));
