import { ADMIN_TOKEN, createTestApp, type TestApp } from '@tessera/testkit/auth-service';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './testing/set-receiver.ts';

/**
 * Every way a session ends becomes a CAEP session-revoked SET, because the SETs come from the
 * revocation feed and not from the routes: each case below revokes one way and polls the SET.
 */
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let t: TestApp | undefined;
const current = (): TestApp => {
  if (!t) throw new Error('no test app');
  return t;
};

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(env: Record<string, string> = {}) {
  t = await createTestApp({ TESSERA_REFRESH_GRACE: '1ms', ...env });
  await t.addUser('alice', 'password-123', []);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/ssf/streams',
    headers: admin,
    payload: { delivery: { method: 'urn:ietf:rfc:8936' }, events_requested: [SESSION_REVOKED] },
  });
  return res.json().stream_id as string;
}

async function login(): Promise<{ accessToken: string; refreshToken: string; session: { id: string } }> {
  const res = await current().login('alice', 'password-123');
  expect(res.statusCode).toBe(200);
  return res.json() as { accessToken: string; refreshToken: string; session: { id: string } };
}

/** Session ids named by the SETs waiting on the poll stream. */
async function revokedSessions(streamId: string): Promise<string[]> {
  const res = await current().app.inject({
    method: 'POST',
    url: `/v1/ssf/poll/${streamId}`,
    headers: admin,
    payload: { returnImmediately: true },
  });
  return Object.values((res.json() as { sets: Record<string, string> }).sets).map(
    (set) => (decodeJwt(set).sub_id as { session: { id: string } }).session.id,
  );
}

async function expectSetsFor(streamId: string, sids: string[]) {
  let got: string[] = [];
  await waitFor(
    async () => {
      got = await revokedSessions(streamId);
      return sids.every((sid) => got.includes(sid));
    },
    2000,
    `SETs for ${sids.join(', ')}`,
  );
  expect(got.sort()).toEqual([...sids].sort());
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('every session revocation becomes a session-revoked SET', () => {
  it('DELETE /v1/sessions/{id}', async () => {
    const stream = await setup();
    const [a, b] = [await login(), await login()];
    await current().app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${b.session.id}`,
      headers: bearer(a.accessToken),
    });
    await expectSetsFor(stream, [b.session.id]);
  });

  it('admin revoke-all, admin revoke of one session and RFC 7009 /v1/revoke', async () => {
    const stream = await setup();
    const [a, b, c, d] = [await login(), await login(), await login(), await login()];
    await current().app.inject({
      method: 'DELETE',
      url: `/v1/admin/sessions/${a.session.id}`,
      headers: admin,
    });
    await current().app.inject({
      method: 'POST',
      url: '/v1/revoke',
      headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(b.refreshToken)}`,
    });
    await expectSetsFor(stream, [a.session.id, b.session.id]);
    await current().app.inject({
      method: 'POST',
      url: `/v1/ssf/poll/${stream}`,
      headers: admin,
      payload: { ack: [], maxEvents: 0 },
    });
    await current().app.inject({ method: 'DELETE', url: '/v1/admin/users/alice/sessions', headers: admin });
    await waitFor(async () => (await revokedSessions(stream)).length === 4, 2000, 'revoke-all SETs');
    expect((await revokedSessions(stream)).sort()).toEqual([a, b, c, d].map((s) => s.session.id).sort());
  });

  it('refresh-token reuse after the grace window', async () => {
    const stream = await setup();
    const a = await login();
    const refresh = () =>
      current().app.inject({ method: 'POST', url: '/v1/refresh', payload: { refreshToken: a.refreshToken } });
    expect((await refresh())?.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await refresh())?.json().code).toBe('refresh_token_reused');
    await expectSetsFor(stream, [a.session.id]);
  });

  it('max sessions eviction', async () => {
    const stream = await setup({ TESSERA_MAX_SESSIONS: '2' });
    const oldest = await login();
    await login();
    await login();
    await expectSetsFor(stream, [oldest.session.id]);
  });

  it('replace: a new login ends the other sessions', async () => {
    const stream = await setup({ TESSERA_CONCURRENCY: 'replace' });
    const first = await login();
    await login();
    await expectSetsFor(stream, [first.session.id]);
  });
});
