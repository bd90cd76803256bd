import type { SessionStore } from '@tessera/core';
import { type RedisServer, startRedis } from '@tessera/testkit';
import {
  ADMIN_TOKEN,
  createTestApp,
  createTestRedisStore,
  type TestApp,
} from '@tessera/testkit/auth-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Stream {
  /** Everything received so far. */
  text(): string;
  /** Resolves when the server ended the stream. */
  closed: Promise<void>;
  cancel(): Promise<void>;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function openStream(url: string, cookie: string): Promise<{ status: number; stream: Stream }> {
  const response = await fetch(url, { headers: { cookie, accept: 'text/event-stream' } });
  let received = '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const closed = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      received += decoder.decode(value, { stream: true });
    }
  })();
  return {
    status: response.status,
    stream: { text: () => received, closed, cancel: () => reader.cancel() },
  };
}

function describeStore(name: string, makeStore: () => Promise<SessionStore | undefined>) {
  describe(`GET /v1/session/events (${name})`, () => {
    let t: TestApp;
    let base: string;

    beforeAll(async () => {
      const store = await makeStore();
      t = await createTestApp({}, store ? { store } : {});
      await t.addUser('alice', 'alice-password-1', ['user']);
      await t.addUser('bob', 'bob-password-1', ['user']);
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterAll(() => t.close());

    async function signIn(username = 'alice'): Promise<{ cookie: string; sessionId: string }> {
      const res = await t.login(username, `${username}-password-1`, { 'x-tessera-transfer': 'cookie' });
      expect(res.statusCode).toBe(200);
      return {
        cookie: res.cookies.map((c) => `${c.name}=${c.value}`).join('; '),
        sessionId: res.json().session.id,
      };
    }

    it('refuses a caller without a session cookie (problem+json 401)', async () => {
      const res = await fetch(`${base}/v1/session/events`);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((await res.json()).code).toBe('invalid_token');
    });

    it("tells the caller's stream when its session is revoked elsewhere, then closes it", async () => {
      const mine = await signIn();
      const other = await signIn();
      const bobs = await signIn('bob');
      const { status, stream } = await openStream(`${base}/v1/session/events`, mine.cookie);
      const bobStream = (await openStream(`${base}/v1/session/events`, bobs.cookie)).stream;
      expect(status).toBe(200);
      await waitFor(() => stream.text().includes('event: session'), 'the session event');
      expect(stream.text()).toContain(JSON.stringify({ id: mine.sessionId }));
      // Another session of alice ending is no news for this one.
      const revokeOther = await t.app.inject({
        method: 'DELETE',
        url: `/v1/sessions/${other.sessionId}`,
        headers: { cookie: mine.cookie, 'x-tessera-csrf': '1' },
      });
      expect(revokeOther.statusCode).toBe(204);
      await new Promise((resolve) => setTimeout(resolve, 600)); // three feed reads: still open
      expect(stream.text()).not.toContain('event: ended');
      const revokeMine = await t.app.inject({
        method: 'DELETE',
        url: `/v1/sessions/${mine.sessionId}`,
        headers: { cookie: (await signIn()).cookie, 'x-tessera-csrf': '1' },
      });
      expect(revokeMine.statusCode).toBe(204);
      await stream.closed;
      expect(stream.text()).toContain('event: ended\ndata: {"code":"session_revoked"}\n\n');
      expect(stream.text().match(/event: ended/g)).toHaveLength(1);
      expect(bobStream.text()).not.toContain('ended');
      await bobStream.cancel();
    });

    it('ends every stream of a user on a global sign-out', async () => {
      const a = await signIn();
      const b = await signIn();
      const streams = await Promise.all([a, b].map((s) => openStream(`${base}/v1/session/events`, s.cookie)));
      await waitFor(() => streams.every((s) => s.stream.text().includes('event: session')), 'both streams');
      const res = await t.app.inject({
        method: 'DELETE',
        url: '/v1/admin/users/alice/sessions',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.statusCode).toBe(204);
      await Promise.all(streams.map((s) => s.stream.closed));
      for (const { stream } of streams) expect(stream.text()).toContain('"code":"session_revoked"');
    });
  });
}

describeStore('memory store', async () => undefined);

describe('Redis store', () => {
  let redis: RedisServer;
  let store: SessionStore;
  beforeAll(async () => {
    redis = await startRedis();
    store = await createTestRedisStore(redis.url);
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });
  describeStore('Redis store', async () => store);
});

describe('shutdown', () => {
  it('closes open streams so the service can stop', async () => {
    const t = await createTestApp();
    await t.addUser('carol', 'carol-password-1');
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await t.login('carol', 'carol-password-1', { 'x-tessera-transfer': 'cookie' });
    const cookie = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const { stream } = await openStream(`${base}/v1/session/events`, cookie);
    await waitFor(() => stream.text().includes('event: session'), 'the session event');
    await t.close();
    await stream.closed;
    expect(stream.text()).not.toContain('event: ended');
  });
});
