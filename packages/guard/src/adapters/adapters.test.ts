import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type RedisServer, startRedis, startTcpProxy, type TcpProxy, waitFor } from '@tessera/testkit';
import {
  type KeyServer,
  openSessionFixture,
  type SessionFixture,
  startKeyServer,
} from '@tessera/testkit/fixtures';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../index.ts';
import * as expressAdapter from './express.ts';
import * as fastifyAdapter from './fastify.ts';
import * as honoAdapter from './hono.ts';
import * as nodeAdapter from './node.ts';

let redis: RedisServer;
let keys: KeyServer;
let sessions: SessionFixture;
let link: TcpProxy;
let guard: Guard;
const servers: Server[] = [];
const urls: Record<string, string> = {};

function listen(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

const whoami = (p: { userId: string; sessionId: string; roles: readonly string[] } | null | undefined) => ({
  userId: p?.userId,
  sessionId: p?.sessionId,
  roles: p?.roles,
});

beforeAll(async () => {
  redis = await startRedis();
  keys = await startKeyServer();
  sessions = await openSessionFixture(redis.url);
  link = await startTcpProxy(redis.port);
  guard = createGuard({ authUrl: keys.url, redis: { kind: 'single', url: link.url }, env: {} });
  await guard.ready();

  const app = express();
  app.use(expressAdapter.authenticate(guard));
  app.get('/whoami', (req, res) => {
    res.json(whoami(req.tessera));
  });
  app.get('/admin', expressAdapter.requireRole('admin'), (_req, res) => {
    res.json({ admin: true });
  });
  urls.express = await listen(createServer(app));

  const fastify = Fastify();
  await fastify.register(fastifyAdapter.tesseraPlugin, { guard });
  fastify.get('/whoami', async (request) => whoami(request.tessera));
  fastify.get('/admin', { preHandler: fastifyAdapter.requireRole('admin') }, async () => ({ admin: true }));
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  urls.fastify = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
  servers.push(fastify.server);

  const hono = new Hono();
  hono.use(honoAdapter.authenticate(guard));
  hono.get('/whoami', (c) => c.json(whoami(c.get('tessera'))));
  hono.get('/admin', honoAdapter.requireRole('admin'), (c) => c.json({ admin: true }));
  urls.hono = await listen(createServer(getRequestListener(hono.fetch)));

  const authenticate = nodeAdapter.createAuthenticator(guard);
  const admin = nodeAdapter.requireRole('admin');
  urls.node = await listen(
    createServer(async (req, res) => {
      const principal = await authenticate(req, res);
      if (!principal) return;
      if (req.url === '/admin' && !admin(principal, res)) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/admin' ? { admin: true } : whoami(principal)));
    }),
  );
});

afterAll(async () => {
  for (const server of servers) server.closeAllConnections?.();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await guard?.close();
  await link?.close();
  await sessions?.close();
  await keys?.close();
  await redis?.stop();
});

async function login(userId: string, roles: string[]) {
  const { sessionId } = await sessions.createSession(userId, roles);
  return { sessionId, token: await keys.sign({ sub: userId, sid: sessionId, roles }) };
}

describe.each(['express', 'fastify', 'hono', 'node'])('%s adapter', (name) => {
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${urls[name]}${path}`, { headers });

  it('sets the principal for a bearer token or the tessera_access cookie', async () => {
    const { sessionId, token } = await login('ann', ['user']);
    const bearer = await get('/whoami', { authorization: `Bearer ${token}` });
    expect(bearer.status).toBe(200);
    expect(await bearer.json()).toEqual({ userId: 'ann', sessionId, roles: ['user'] });
    const cookie = await get('/whoami', { cookie: `theme=dark; tessera_access=${token}` });
    expect(cookie.status).toBe(200);
  });

  it('answers 401 problem+json with WWW-Authenticate', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer nope' },
      { authorization: 'Basic YTpi' },
      { cookie: 'tessera_access=' },
    ]) {
      const response = await get('/whoami', headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ status: 401, code: 'invalid_token' });
    }
  });

  it('requireRole: 403 insufficient_role without the role, 200 with it', async () => {
    const user = await login('bea', ['user']);
    const denied = await get('/admin', { authorization: `Bearer ${user.token}` });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ status: 403, code: 'insufficient_role' });
    const admin = await login('cat', ['user', 'admin']);
    expect((await get('/admin', { authorization: `Bearer ${admin.token}` })).status).toBe(200);
  });

  it('session_revoked after a revocation', async () => {
    const { sessionId, token } = await login('dee', ['user']);
    expect((await get('/whoami', { authorization: `Bearer ${token}` })).status).toBe(200);
    await sessions.store.revokeSession(sessionId, Date.now());
    let response = await get('/whoami', { authorization: `Bearer ${token}` });
    await waitFor(async () => {
      response = await get('/whoami', { authorization: `Bearer ${token}` });
      return response.status !== 200;
    }, 2000);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'session_revoked' });
  });
});

describe('503 from every adapter when Redis cannot be reached', () => {
  it('answers store_unavailable with Retry-After (fail closed)', async () => {
    const { token } = await login('eve', ['user']);
    link.cut();
    await waitFor(() => guard.feedStatus()?.current === false, 1000);
    try {
      for (const name of ['express', 'fastify', 'hono', 'node']) {
        const response = await fetch(`${urls[name]}/whoami`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('1');
        expect(await response.json()).toMatchObject({ status: 503, code: 'store_unavailable' });
      }
    } finally {
      link.restore();
    }
  });
});
