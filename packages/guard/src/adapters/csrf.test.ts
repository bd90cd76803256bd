import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type RedisServer, startRedis } from '@tessera/testkit';
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

// Contract §6: every adapter applies the auth service's CSRF rule to cookie-authenticated
// unsafe requests (403 csrf); bearer requests are not subject to it.
const SHOP = 'https://shop.example';
let redis: RedisServer;
let keys: KeyServer;
let sessions: SessionFixture;
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

beforeAll(async () => {
  redis = await startRedis();
  keys = await startKeyServer();
  sessions = await openSessionFixture(redis.url);
  guard = createGuard({
    authUrl: keys.url,
    redis: { kind: 'single', url: redis.url },
    allowedOrigins: [SHOP],
    env: {},
  });
  await guard.ready();

  const app = express();
  app.use(expressAdapter.authenticate(guard));
  app.post('/orders', (req, res) => {
    res.status(201).json({ userId: req.tessera?.userId });
  });
  urls.express = await listen(createServer(app));

  const fastify = Fastify();
  await fastify.register(fastifyAdapter.tesseraPlugin, { guard });
  fastify.post('/orders', async (request, reply) =>
    reply.code(201).send({ userId: request.tessera?.userId }),
  );
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  urls.fastify = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
  servers.push(fastify.server);

  const hono = new Hono();
  hono.use(honoAdapter.authenticate(guard));
  hono.post('/orders', (c) => c.json({ userId: c.get('tessera').userId }, 201));
  urls.hono = await listen(createServer(getRequestListener(hono.fetch)));

  const authenticate = nodeAdapter.createAuthenticator(guard);
  urls.node = await listen(
    createServer(async (req, res) => {
      const principal = await authenticate(req, res);
      if (!principal) return;
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ userId: principal.userId }));
    }),
  );
});

afterAll(async () => {
  for (const server of servers) server.closeAllConnections?.();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await guard?.close();
  await sessions?.close();
  await keys?.close();
  await redis?.stop();
});

describe.each(['express', 'fastify', 'hono', 'node'])('CSRF rule in the %s adapter', (name) => {
  const post = (headers: Record<string, string>, method = 'POST') =>
    fetch(`${urls[name]}/orders`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: '{}',
    });

  it('cookie + foreign Origin → 403 csrf; no Origin, no header → 403; allowed origin or X-Tessera-CSRF → 201; bearer → 201', async () => {
    const { sessionId } = await sessions.createSession('ann', ['user']);
    const token = await keys.sign({ sub: 'ann', sid: sessionId, roles: ['user'] });
    const cookie = `tessera_access=${token}`;

    const foreign = await post({ cookie, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await foreign.json()).toMatchObject({ status: 403, code: 'csrf' });
    const bare = await post({ cookie });
    expect(bare.status).toBe(403);
    expect(await bare.json()).toMatchObject({ code: 'csrf' });
    expect((await post({ cookie, origin: 'null' })).status).toBe(403);
    expect((await post({ cookie, origin: 'https://evil.example' }, 'DELETE')).status).toBe(403);

    expect((await post({ cookie, origin: SHOP })).status).toBe(201);
    expect((await post({ cookie, origin: keys.issuer })).status).toBe(201);
    expect((await post({ cookie, 'x-tessera-csrf': '1' })).status).toBe(201);
    const bearer = await post({ authorization: `Bearer ${token}`, origin: 'https://evil.example' });
    expect(bearer.status).toBe(201);
    expect(await bearer.json()).toEqual({ userId: 'ann' });
  });
});
