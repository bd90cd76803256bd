import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AccessTokenClaims,
  connectRedis,
  createRedisClient,
  createRedisStore,
  type RedisClient,
  type SessionStore,
} from '@tessera/core';
import { formatOpaqueToken, generateSecret, generateSessionId, hashSecret } from '@tessera/core/internal';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/**
 * Test stand-in for the auth service's key endpoints: a node:http server on port 0 serving
 * RFC 8414 metadata and a JWKS, and signing `at+jwt` tokens with its keys (jose).
 */
export interface KeyServer {
  url: string;
  issuer: string;
  /** How many times the JWKS was fetched. */
  jwksFetches: number;
  /** Key ids, oldest first. */
  kids: string[];
  /** Adds a key; it signs from now on (the old ones stay published). */
  rotate(): Promise<string>;
  sign(claims: Partial<AccessTokenClaims> & { sub: string; sid: string }, kid?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startKeyServer(): Promise<KeyServer> {
  const keys: Array<{ kid: string; privateKey: PrivateKey; publicJwk: JWK }> = [];
  let server: Server | undefined;
  const state = { jwksFetches: 0 };
  server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      state.jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    } else if (req.url === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: fixture.issuer, jwks_uri: `${fixture.url}/.well-known/jwks.json` }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fixture: KeyServer = {
    url: `http://127.0.0.1:${port}`,
    issuer: `http://127.0.0.1:${port}`,
    get jwksFetches() {
      return state.jwksFetches;
    },
    get kids() {
      return keys.map((k) => k.kid);
    },
    async rotate() {
      const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
      const kid = randomUUID();
      keys.push({
        kid,
        privateKey,
        publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' },
      });
      return kid;
    },
    async sign(claims, kid) {
      const key = kid === undefined ? keys.at(-1) : keys.find((k) => k.kid === kid);
      if (key === undefined) throw new Error('no key');
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ sid: claims.sid, roles: claims.roles ?? ['user'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
        .setIssuer(claims.iss ?? fixture.issuer)
        .setSubject(claims.sub)
        .setAudience(claims.aud ?? 'tessera')
        .setIssuedAt(claims.iat ?? now)
        .setExpirationTime(claims.exp ?? now + 600)
        .setJti(claims.jti ?? randomUUID())
        .sign(key.privateKey);
    },
    close: () => new Promise((resolve) => server?.close(() => resolve())),
  };
  await fixture.rotate();
  return fixture;
}

/** A real Redis store (the one the auth service uses) for creating and revoking sessions in tests. */
export interface SessionFixture {
  client: RedisClient;
  store: SessionStore;
  /** Creates a live session; returns its id and an opaque session token for it. */
  createSession(userId: string, roles?: string[]): Promise<{ sessionId: string; token: string }>;
  close(): Promise<void>;
}

export async function openSessionFixture(redisUrl: string): Promise<SessionFixture> {
  const client = createRedisClient({ kind: 'single', url: redisUrl });
  client.on('error', () => {});
  await connectRedis(client);
  const store = createRedisStore({ client, revocationRetentionMs: 15 * 60_000, ownsClient: false });
  return {
    client,
    store,
    async createSession(userId, roles = ['user']) {
      const now = Date.now();
      const sessionId = generateSessionId(userId);
      const secret = generateSecret();
      await store.createSession({
        session: {
          id: sessionId,
          userId,
          roles,
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 3_600_000,
          absoluteExpiresAt: now + 86_400_000,
          ip: '127.0.0.1',
          userAgent: 'test',
          accessExpiresAt: now + 600_000,
        },
        secretHash: hashSecret(secret),
        concurrency: 'allow',
        force: false,
        maxSessions: 0,
        now,
      });
      return { sessionId, token: formatOpaqueToken('session', sessionId, secret) };
    },
    async close() {
      client.disconnect();
    },
  };
}
