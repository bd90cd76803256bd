import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '@tessera/testkit/auth-service';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/env-config.ts';
import { startTestReceiver, type TestReceiver, waitFor } from './testing/set-receiver.ts';

const ISSUER = 'http://auth.test';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

let t: TestApp;
let receiver: TestReceiver;
let idp: {
  server: Server;
  url: string;
  sign(claims: Record<string, unknown>, typ?: string): Promise<string>;
};
let rogue: Awaited<ReturnType<typeof generateKeyPair>>;

async function startIdp() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    sign: (claims: Record<string, unknown>, typ = 'secevent+jwt') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ }).sign(privateKey),
  };
}

const jwks = async () => createLocalJWKSet((await t.app.inject({ url: '/.well-known/jwks.json' })).json());

async function verifySet(token: string, aud: string) {
  return jwtVerify(token, await jwks(), { issuer: ISSUER, audience: aud, typ: 'secevent+jwt' });
}

async function createStream(body: Record<string, unknown>) {
  const res = await t.app.inject({ method: 'POST', url: '/v1/ssf/streams', headers: admin, payload: body });
  expect(res.statusCode).toBe(201);
  return res.json() as { stream_id: string; aud: string; delivery: { endpoint_url: string } };
}

async function loginAs(username: string) {
  const res = await t.login(username, 'password-123');
  expect(res.statusCode).toBe(200);
  return res.json() as { accessToken: string; refreshToken: string; session: { id: string; userId: string } };
}

const pushedTo = (r: TestReceiver, type: string) =>
  r.received.filter(
    (q) =>
      q.contentType === 'application/secevent+jwt' &&
      q.body.length > 0 &&
      JSON.stringify(
        JSON.parse(Buffer.from(q.body.split('.')[1] ?? '', 'base64url').toString()).events ?? {},
      ).includes(type),
  );

beforeAll(async () => {
  idp = await startIdp();
  rogue = await generateKeyPair('ES256');
  t = await createTestApp({
    TESSERA_SSF_TRUSTED_ISSUERS: `https://idp.example=${idp.url}/jwks,https://down.example=http://127.0.0.1:9/jwks`,
    TESSERA_SSF_RETRY_MAX: '1s',
  });
  receiver = await startTestReceiver();
  for (const name of ['alice', 'bob', 'carol']) await t.addUser(name, 'password-123', []);
});

afterAll(async () => {
  await t?.close();
  await receiver?.stop();
  await new Promise((resolve) => idp?.server.close(resolve));
});

describe('SSF transmitter (in-process, memory store)', () => {
  it('publishes SSF transmitter metadata', async () => {
    const res = await t.app.inject({ url: '/.well-known/ssf-configuration' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      spec_version: '1_0',
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      configuration_endpoint: `${ISSUER}/v1/ssf/streams`,
      verification_endpoint: `${ISSUER}/v1/ssf/verify`,
      delivery_methods_supported: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'],
    });
  });

  it('stream management needs the admin bearer and validates its input', async () => {
    const anon = await t.app.inject({ method: 'POST', url: '/v1/ssf/streams', payload: {} });
    expect(anon.statusCode).toBe(401);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/ssf/streams',
      headers: admin,
      payload: { delivery: { method: 'urn:ietf:rfc:8935' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_request');
  });

  it('creates, reads, updates, pauses and deletes a stream', async () => {
    const created = await createStream({
      delivery: { method: 'urn:ietf:rfc:8936' },
      events_requested: [SESSION_REVOKED, 'https://example.com/unknown'],
    });
    expect(created.delivery.endpoint_url).toBe(`${ISSUER}/v1/ssf/poll/${created.stream_id}`);
    const read = await t.app.inject({
      url: `/v1/ssf/streams?stream_id=${created.stream_id}`,
      headers: admin,
    });
    expect(read.json()).toMatchObject({ stream_id: created.stream_id, events_delivered: [SESSION_REVOKED] });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/v1/ssf/streams',
      headers: admin,
      payload: { stream_id: created.stream_id, description: 'audit' },
    });
    expect(patched.json().description).toBe('audit');
    const replaced = await t.app.inject({
      method: 'PUT',
      url: '/v1/ssf/streams',
      headers: admin,
      payload: { stream_id: created.stream_id, delivery: { method: 'urn:ietf:rfc:8936' } },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().description).toBeUndefined();
    expect(replaced.json().events_requested).toEqual([]);
    const noDelivery = await t.app.inject({
      method: 'PUT',
      url: '/v1/ssf/streams',
      headers: admin,
      payload: { stream_id: created.stream_id },
    });
    expect(noDelivery.statusCode).toBe(400);
    const paused = await t.app.inject({
      method: 'POST',
      url: '/v1/ssf/status',
      headers: admin,
      payload: { stream_id: created.stream_id, status: 'paused' },
    });
    expect(paused.json()).toEqual({ stream_id: created.stream_id, status: 'paused' });
    const status = await t.app.inject({
      url: `/v1/ssf/status?stream_id=${created.stream_id}`,
      headers: admin,
    });
    expect(status.json().status).toBe('paused');
    const all = await t.app.inject({ url: '/v1/ssf/streams', headers: admin });
    expect((all.json() as Array<{ stream_id: string }>).map((s) => s.stream_id)).toContain(created.stream_id);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/ssf/streams?stream_id=${created.stream_id}`,
      headers: admin,
    });
    expect(del.statusCode).toBe(204);
    const gone = await t.app.inject({
      url: `/v1/ssf/streams?stream_id=${created.stream_id}`,
      headers: admin,
    });
    expect(gone.statusCode).toBe(404);
  });

  it('pushes a signed CAEP session-revoked SET within 1 s of a logout, verifiable with the JWKS alone', async () => {
    const stream = await createStream({
      delivery: {
        method: 'urn:ietf:rfc:8935',
        endpoint_url: receiver.url,
        authorization_header: 'Bearer rx',
      },
      events_requested: [SESSION_REVOKED],
    });
    const bob = await loginAs('bob');
    const before = receiver.received.length;
    const started = Date.now();
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(out.statusCode).toBe(204);
    await waitFor(() => receiver.received.length > before, 1000, 'SET pushed within 1 s');
    console.log(`logout → SET at the receiver: ${Date.now() - started} ms`);
    const pushed = receiver.received.at(-1);
    expect(pushed?.contentType).toBe('application/secevent+jwt');
    expect(pushed?.authorization).toBe('Bearer rx');
    const token = pushed?.body ?? '';
    expect(decodeProtectedHeader(token).typ).toBe('secevent+jwt');
    const { payload } = await verifySet(token, stream.aud);
    expect(payload.sub_id).toEqual({
      format: 'complex',
      user: { format: 'opaque', id: bob.session.userId },
      session: { format: 'opaque', id: bob.session.id },
    });
    expect(Object.keys(payload.events as object)).toEqual([SESSION_REVOKED]);
    expect(payload.jti).toMatch(new RegExp(`^${stream.stream_id}:\\d+-\\d+:0$`));
    await waitFor(
      async () =>
        (await t.app.inject({ url: '/metrics' })).body.includes(
          `tessera_ssf_events_delivered_total{stream="${stream.stream_id}"} 1`,
        ),
      2000,
      'delivered counter',
    );
    expect((await t.app.inject({ url: '/metrics' })).body).toContain(
      `tessera_ssf_events_queued_total{stream="${stream.stream_id}"} 1`,
    );
  });

  it('poll: long polling returns the SET, ack removes it, moreAvailable says when more wait', async () => {
    const stream = await createStream({
      delivery: { method: 'urn:ietf:rfc:8936' },
      events_requested: [SESSION_REVOKED],
    });
    const url = `/v1/ssf/poll/${stream.stream_id}`;
    const empty = await t.app.inject({
      method: 'POST',
      url,
      headers: admin,
      payload: { returnImmediately: true },
    });
    expect(empty.json()).toEqual({ sets: {}, moreAvailable: false });
    const carol = await loginAs('carol');
    const carol2 = await loginAs('carol');
    // started before the revocation: it waits (long polling) until the events are queued
    const waiting = t.app
      .inject({ method: 'POST', url, headers: admin, payload: { maxEvents: 1 } })
      .then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await t.app.inject({
      method: 'POST',
      url: '/v1/logout/all',
      headers: { authorization: `Bearer ${carol.accessToken}` },
    });
    const first = (await waiting).json() as { sets: Record<string, string>; moreAvailable: boolean };
    expect(Object.keys(first.sets)).toHaveLength(1);
    expect(first.moreAvailable).toBe(true);
    const [jti, token] = Object.entries(first.sets)[0] ?? [];
    const { payload } = await verifySet(token ?? '', stream.aud);
    expect(payload.jti).toBe(jti);
    const sessions = [carol.session.id, carol2.session.id];
    expect(sessions).toContain((payload.sub_id as { session: { id: string } }).session.id);
    const again = await t.app.inject({
      method: 'POST',
      url,
      headers: admin,
      payload: { returnImmediately: true },
    });
    expect(Object.keys(again.json().sets)).toContain(jti); // not acknowledged: still there
    const acked = await t.app.inject({
      method: 'POST',
      url,
      headers: admin,
      payload: { ack: [jti], returnImmediately: true },
    });
    const rest = acked.json() as { sets: Record<string, string>; moreAvailable: boolean };
    expect(Object.keys(rest.sets)).toHaveLength(1);
    expect(Object.keys(rest.sets)).not.toContain(jti);
    expect(rest.moreAvailable).toBe(false);
    await t.app.inject({
      method: 'POST',
      url,
      headers: admin,
      payload: { ack: Object.keys(rest.sets), returnImmediately: true },
    });
    const done = await t.app.inject({
      method: 'POST',
      url,
      headers: admin,
      payload: { returnImmediately: true },
    });
    expect(done.json().sets).toEqual({});
  });

  it('a pending long poll does not hold the shutdown', async () => {
    const other = await createTestApp({ TESSERA_SSF_POLL_WAIT: '60s' });
    const res = await other.app.inject({
      method: 'POST',
      url: '/v1/ssf/streams',
      headers: admin,
      payload: { delivery: { method: 'urn:ietf:rfc:8936' } },
    });
    const url = `/v1/ssf/poll/${res.json().stream_id}`;
    const waiting = other.app.inject({ method: 'POST', url, headers: admin, payload: {} }).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await waiting).json()).toEqual({ sets: {}, moreAvailable: false });
  });

  it('sends a verification event with the state the receiver asked for', async () => {
    const stream = await createStream({
      delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url },
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/ssf/verify',
      headers: admin,
      payload: { stream_id: stream.stream_id, state: 'abc123' },
    });
    expect(res.statusCode).toBe(204);
    await waitFor(() => pushedTo(receiver, VERIFICATION).length > 0, 2000, 'verification event');
    const { payload } = await verifySet(pushedTo(receiver, VERIFICATION)[0]?.body ?? '', stream.aud);
    expect(payload.events).toEqual({ [VERIFICATION]: { state: 'abc123' } });
    expect(payload.sub_id).toEqual({ format: 'opaque', id: stream.stream_id });
  });

  it('a password change revokes every session and sends credential-change', async () => {
    const rx = await startTestReceiver();
    try {
      await createStream({
        delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rx.url },
        events_requested: [CREDENTIAL_CHANGE],
      });
      const bob = await loginAs('bob');
      const res = await t.app.inject({
        method: 'PUT',
        url: '/v1/admin/users/bob/password',
        headers: admin,
        payload: { password: 'password-123' },
      });
      expect(res.statusCode).toBe(204);
      const session = await t.app.inject({
        url: '/v1/session',
        headers: { authorization: `Bearer ${bob.accessToken}` },
      });
      expect(session.statusCode).toBe(401);
      await waitFor(() => pushedTo(rx, CREDENTIAL_CHANGE).length > 0, 2000, 'credential-change');
      expect(pushedTo(rx, SESSION_REVOKED)).toHaveLength(0); // not requested by this stream
      const token = pushedTo(rx, CREDENTIAL_CHANGE)[0]?.body ?? '';
      const { payload } = await jwtVerify(token, await jwks(), { issuer: ISSUER });
      expect(payload.events).toMatchObject({
        [CREDENTIAL_CHANGE]: { credential_type: 'password', change_type: 'update' },
      });
      expect(payload.sub_id).toEqual({
        format: 'complex',
        user: { format: 'opaque', id: bob.session.userId },
      });
    } finally {
      await rx.stop();
    }
  });

  it('back-channel logout: a registered service gets a form-encoded logout_token for each revoked session', async () => {
    const rp = await startTestReceiver('/backchannel');
    rp.status = 200;
    try {
      const reg = await t.app.inject({
        method: 'POST',
        url: '/v1/admin/backchannel-logout',
        headers: admin,
        payload: { client_id: 'orders', backchannel_logout_uri: rp.url },
      });
      expect(reg.statusCode).toBe(201);
      const alice = await loginAs('alice');
      await t.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { authorization: `Bearer ${alice.accessToken}` },
      });
      await waitFor(() => rp.received.length > 0, 2000, 'logout token');
      const got = rp.received[0];
      expect(got?.contentType).toBe('application/x-www-form-urlencoded');
      const token = new URLSearchParams(got?.body).get('logout_token') ?? '';
      expect(decodeProtectedHeader(token).typ).toBe('logout+jwt');
      const { payload } = await jwtVerify(token, await jwks(), { issuer: ISSUER, audience: 'orders' });
      expect(payload).toMatchObject({
        sub: alice.session.userId,
        sid: alice.session.id,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      });
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(120);
      const list = await t.app.inject({ url: '/v1/admin/streams', headers: admin });
      expect(list.json().streams.some((s: { method: string }) => s.method === 'bcl')).toBe(true);
      const id = reg.json().id as string;
      const del = await t.app.inject({
        method: 'DELETE',
        url: `/v1/admin/backchannel-logout/${id}`,
        headers: admin,
      });
      expect(del.statusCode).toBe(204);
    } finally {
      await rp.stop();
    }
  });
});

describe('SSF receiver (POST /v1/ssf/receiver)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const revokedFor = (username: string) => ({
    iss: 'https://idp.example',
    aud: ISSUER,
    iat: now(),
    jti: `idp-${Math.random()}`,
    sub_id: { format: 'email', email: username },
    events: { [SESSION_REVOKED]: { event_timestamp: now() } },
  });
  const push = (body: string, type = 'application/secevent+jwt') =>
    t.app.inject({
      method: 'POST',
      url: '/v1/ssf/receiver',
      headers: { 'content-type': type },
      payload: body,
    });

  it('refuses a SET signed by a key the issuer does not publish (invalid_key)', async () => {
    const forged = await new SignJWT(revokedFor('alice'))
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'secevent+jwt' })
      .sign(rogue.privateKey);
    const res = await push(forged);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ err: 'invalid_key', description: expect.any(String) });
  });

  it('refuses a wrong aud, an untrusted issuer, a missing typ, an old iat and a non-JWT body', async () => {
    const cases: Array<[Promise<string> | string, string]> = [
      [idp.sign({ ...revokedFor('alice'), aud: 'https://someone-else' }), 'invalid_audience'],
      [idp.sign({ ...revokedFor('alice'), iss: 'https://evil.example' }), 'invalid_issuer'],
      [idp.sign(revokedFor('alice'), 'JWT'), 'invalid_request'],
      [idp.sign({ ...revokedFor('alice'), iat: now() - 2 * 3600 }), 'invalid_request'],
      ['not a jwt', 'invalid_request'],
    ];
    for (const [token, err] of cases) {
      const res = await push(await token);
      expect(res.statusCode).toBe(400);
      expect(res.json().err).toBe(err);
    }
    const json = await push(JSON.stringify({ a: 1 }), 'application/json');
    expect(json.statusCode).toBe(400);
    expect(json.json().err).toBe('invalid_request');
  });

  it("503 (retry later) when the issuer's JWKS cannot be fetched, and the jti is not spent", async () => {
    const token = await idp.sign({ ...revokedFor('alice'), iss: 'https://down.example' });
    for (let i = 0; i < 2; i++) {
      const res = await push(token);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json().err).toBe('temporarily_unavailable');
    }
  });

  it('a trusted session-revoked for alice ends all her sessions; the same SET again is a replay', async () => {
    const a1 = await loginAs('alice');
    const a2 = await loginAs('alice');
    const bob = await loginAs('bob');
    const token = await idp.sign(revokedFor('alice'));
    const res = await push(token);
    expect(res.statusCode).toBe(202);
    for (const s of [a1, a2]) {
      const check = await t.app.inject({
        url: '/v1/session',
        headers: { authorization: `Bearer ${s.accessToken}` },
      });
      expect(check.statusCode).toBe(401);
    }
    const other = await t.app.inject({
      url: '/v1/session',
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(other.statusCode).toBe(200);
    const replay = await push(token);
    expect(replay.statusCode).toBe(400);
    expect(replay.json().err).toBe('invalid_request');
  });

  it('credential-change with an opaque username revokes too; unknown events and users are accepted and ignored', async () => {
    const bob = await loginAs('bob');
    const unknownEvent = await idp.sign({ ...revokedFor('bob'), events: { 'https://example.com/x': {} } });
    expect((await push(unknownEvent)).statusCode).toBe(202);
    const stillIn = await t.app.inject({
      url: '/v1/session',
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(stillIn.statusCode).toBe(200);
    const nobody = await idp.sign({ ...revokedFor('nobody@example.com') });
    expect((await push(nobody)).statusCode).toBe(202);
    const change = await idp.sign({
      ...revokedFor('bob'),
      sub_id: { format: 'opaque', id: 'bob' },
      events: { [CREDENTIAL_CHANGE]: { credential_type: 'password', change_type: 'update' } },
    });
    expect((await push(change)).statusCode).toBe(202);
    const out = await t.app.inject({
      url: '/v1/session',
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(out.statusCode).toBe(401);
  });
});

describe('SSF settings', () => {
  it('TESSERA_SSF_TRUSTED_ISSUERS takes issuer=jwks_uri pairs and names itself when malformed', () => {
    const config = loadConfig({
      TESSERA_SSF_TRUSTED_ISSUERS:
        'https://a.example=https://a.example/jwks, https://b.example/t1=http://b:8080/keys',
    });
    expect(config.ssf.trustedIssuers).toEqual([
      { issuer: 'https://a.example', jwksUri: 'https://a.example/jwks' },
      { issuer: 'https://b.example/t1', jwksUri: 'http://b:8080/keys' },
    ]);
    for (const bad of ['https://a.example', 'https://a.example=ftp://x/jwks', '=https://a.example/jwks']) {
      expect(() => loadConfig({ TESSERA_SSF_TRUSTED_ISSUERS: bad })).toThrow(
        /^TESSERA_SSF_TRUSTED_ISSUERS: /,
      );
    }
    expect(() => loadConfig({ TESSERA_SSF_RETRY_MAX: 'soon' })).toThrow(/^TESSERA_SSF_RETRY_MAX: /);
    expect(() => loadConfig({ TESSERA_SSF_POLL_WAIT: '5m' })).toThrow(/^TESSERA_SSF_POLL_WAIT: /);
  });
});
