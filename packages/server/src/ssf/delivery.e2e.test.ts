import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RedisServer, startRedis } from '@tessera/testkit';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthProcess, runCliClean, startAuthProcess } from './testing/auth-process.ts';
import { startTestReceiver, type TestReceiver, waitFor } from './testing/set-receiver.ts';

/**
 * Delivery with real processes: auth instances (`tessera serve`) on one Redis, a real HTTP
 * receiver that goes down and comes back, instances killed while events are queued.
 * Backoff cap and take-over delay are shortened (TESSERA_SSF_RETRY_MAX, TESSERA_SSF_CLAIM_IDLE)
 * so the waits are bounded; the receiver outage itself is a real 30 s.
 */
const ADMIN = 'admin-token-for-ssf-e2e-0123456789';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const PASSWORD = 'password-123';

let redis: RedisServer;
let dataDir: string;
let issuer: string;
let ports: number[];
const running = new Map<number, AuthProcess>();
let receiver: TestReceiver;

function envFor(port: number): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    TESSERA_ISSUER: issuer,
    TESSERA_REDIS_URL: redis.url,
    TESSERA_DATA_DIR: dataDir,
    TESSERA_USERS: `file:${join(dataDir, 'users.json')}`,
    TESSERA_ADMIN_TOKEN: ADMIN,
    TESSERA_COOKIE_SECURE: 'false',
    TESSERA_LOGIN_RATE_USER: '100000',
    TESSERA_LOGIN_RATE_IP: '100000',
    TESSERA_SSF_RETRY_MAX: '2s',
    TESSERA_SSF_CLAIM_IDLE: '2s',
    LOG_LEVEL: 'warn',
  };
}

/** Starts auth instance `index` (port `ports[index]`) unless it runs already. */
async function startInstance(index: number): Promise<AuthProcess> {
  const existing = running.get(index);
  if (existing) return existing;
  const instance = await startAuthProcess(envFor(ports[index] as number));
  running.set(index, instance);
  return instance;
}

const base = (index: number) => `http://127.0.0.1:${ports[index]}`;

async function api(index: number, method: string, path: string, body?: unknown, token = ADMIN) {
  const response = await fetch(`${base(index)}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: () => JSON.parse(text) };
}

async function login(index: number, username: string) {
  const res = await fetch(`${base(index)}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { accessToken: string; session: { id: string; userId: string } };
}

async function logout(index: number, accessToken: string) {
  expect((await api(index, 'POST', '/v1/logout', undefined, accessToken)).status).toBe(204);
}

async function createPushStream(index: number, url: string) {
  const res = await api(index, 'POST', '/v1/ssf/streams', {
    delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: url },
    events_requested: [SESSION_REVOKED],
  });
  expect(res.status).toBe(201);
  return res.json() as { stream_id: string; aud: string };
}

/** Session ids named by the SETs a receiver got for one stream, with how often each came. */
function sessionsAt(rx: TestReceiver, streamId: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const request of rx.received) {
    const claims = decodeJwt(request.body) as { jti?: string; sub_id?: { session?: { id?: string } } };
    if (!claims.jti?.startsWith(`${streamId}:`)) continue;
    const sid = claims.sub_id?.session?.id;
    if (sid) seen.set(sid, (seen.get(sid) ?? 0) + 1);
  }
  return seen;
}

const hasAll = (rx: TestReceiver, streamId: string, sids: string[]) => () => {
  const seen = sessionsAt(rx, streamId);
  return sids.every((sid) => seen.has(sid));
};

beforeAll(async () => {
  redis = await startRedis();
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-ssf-'));
  ports = [await freePort(), await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${ports[0]}`;
  receiver = await startTestReceiver();
  await startInstance(0);
  for (const name of ['alice', 'bob', 'carol', 'dave']) {
    expect(
      (await api(0, 'POST', '/v1/admin/users', { username: name, password: PASSWORD, roles: [] })).status,
    ).toBe(201);
  }
});

afterAll(async () => {
  for (const instance of running.values()) await instance.stop('SIGKILL');
  await receiver?.stop();
  await redis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('SSF delivery with real processes and Redis', () => {
  it('pushes the SET within 1 s of the revocation, signed with a key from the JWKS', async () => {
    const stream = await createPushStream(0, receiver.url);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const alice = await login(0, 'alice');
      const started = Date.now();
      await logout(0, alice.accessToken);
      await waitFor(hasAll(receiver, stream.stream_id, [alice.session.id]), 1000, 'SET within 1 s');
      latencies.push(Date.now() - started);
    }
    console.log(`logout request → SET received (Redis, real process), 5 runs: ${latencies.join(', ')} ms`);
    const token = receiver.received.at(-1)?.body ?? '';
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)),
      {
        issuer,
        audience: stream.aud,
        typ: 'secevent+jwt',
      },
    );
    expect(protectedHeader.typ).toBe('secevent+jwt');
    expect(payload.events).toHaveProperty([SESSION_REVOKED]);
    await api(0, 'DELETE', `/v1/ssf/streams?stream_id=${stream.stream_id}`);
  });

  it('receiver down for 30 s, then up: every event queued meanwhile arrives', async () => {
    const rx = await startTestReceiver();
    const stream = await createPushStream(0, rx.url);
    await rx.stop();
    const downAt = Date.now();
    const sids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await login(0, 'bob');
      await logout(0, s.accessToken);
      sids.push(s.session.id);
      await new Promise((resolve) => setTimeout(resolve, 10_000 - ((Date.now() - downAt) % 10_000)));
    }
    await waitFor(() => Date.now() - downAt >= 30_000, 35_000, '30 s outage');
    expect(sessionsAt(rx, stream.stream_id).size).toBe(0);
    await rx.start();
    const upAt = Date.now();
    await waitFor(hasAll(rx, stream.stream_id, sids), 10_000, 'every queued SET after the receiver is back');
    console.log(`receiver back → all ${sids.length} queued SETs delivered: ${Date.now() - upAt} ms`);
    const metrics = await (await fetch(`${base(0)}/metrics`)).text();
    const retried = new RegExp(
      `tessera_ssf_delivery_retries_total\\{stream="${stream.stream_id}"\\} (\\d+)`,
    ).exec(metrics);
    expect(Number(retried?.[1])).toBeGreaterThan(0);
    await rx.stop();
  }, 90_000);

  it('two instances share delivery and no event is lost', async () => {
    await startInstance(0);
    await startInstance(1);
    const rx = await startTestReceiver();
    const stream = await createPushStream(1, rx.url);
    const sessions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => login(i % 2, i % 3 === 0 ? 'carol' : 'dave')),
    );
    await Promise.all(sessions.map((s, i) => logout((i + 1) % 2, s.accessToken)));
    const sids = sessions.map((s) => s.session.id);
    await waitFor(hasAll(rx, stream.stream_id, sids), 10_000, 'all 20 SETs');
    const counts = [...sessionsAt(rx, stream.stream_id).values()];
    console.log(
      `two instances: ${sids.length} revocations → ${counts.reduce((a, b) => a + b, 0)} SETs received`,
    );
    expect(counts.length).toBe(20);
    await rx.stop();
  }, 60_000);

  it('every auth instance killed while events are queued (and a CLI revoke while none runs): all arrive after a restart', async () => {
    await startInstance(0);
    await startInstance(1);
    const rx = await startTestReceiver();
    const stream = await createPushStream(0, rx.url);
    await rx.stop();
    const sids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await login(i % 2, 'carol');
      await logout((i + 1) % 2, s.accessToken);
      sids.push(s.session.id);
    }
    // wait until the instances have tried (and failed) to deliver: the events are claimed by them
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const last = await login(0, 'dave');
    for (const instance of running.values()) await instance.stop('SIGKILL');
    running.clear();
    // no instance runs: the CLI revokes through Redis alone; the feed keeps the entry
    const cli = await runCliClean(['sessions', 'revoke', last.session.id], envFor(ports[2] as number));
    expect(cli.code).toBe(0);
    sids.push(last.session.id);
    await startInstance(2);
    await rx.start();
    const upAt = Date.now();
    await waitFor(hasAll(rx, stream.stream_id, sids), 20_000, 'every queued SET after a restart');
    console.log(`restart → all ${sids.length} SETs delivered: ${Date.now() - upAt} ms`);
    await rx.stop();
  }, 60_000);

  it('poll with ack: a long poll on one instance returns the SET of a revocation on another', async () => {
    await startInstance(0);
    await startInstance(2);
    const created = await api(2, 'POST', '/v1/ssf/streams', {
      delivery: { method: 'urn:ietf:rfc:8936' },
      events_requested: [SESSION_REVOKED],
    });
    const streamId = created.json().stream_id as string;
    const waiting = api(2, 'POST', `/v1/ssf/poll/${streamId}`, { maxEvents: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const s = await login(0, 'alice');
    await logout(0, s.accessToken);
    const polled = (await waiting).json() as { sets: Record<string, string> };
    const jtis = Object.keys(polled.sets);
    expect(jtis).toHaveLength(1);
    expect(
      (decodeJwt(polled.sets[jtis[0] as string] as string).sub_id as { session: { id: string } }).session.id,
    ).toBe(s.session.id);
    const acked = await api(0, 'POST', `/v1/ssf/poll/${streamId}`, { ack: jtis, returnImmediately: true });
    expect(acked.json()).toEqual({ sets: {}, moreAvailable: false });
  });

  it('tessera streams list shows every stream with its queue', async () => {
    await startInstance(0);
    const rx = await startTestReceiver();
    await rx.stop(); // down: what is revoked stays queued
    await createPushStream(0, rx.url);
    await api(0, 'POST', '/v1/ssf/streams', {
      delivery: { method: 'urn:ietf:rfc:8936' },
      events_requested: [SESSION_REVOKED],
    });
    const s = await login(0, 'alice');
    await logout(0, s.accessToken);
    const queuedOnPoll = async () =>
      (
        (await api(0, 'GET', '/v1/admin/streams')).json() as {
          streams: Array<{ method: string; queued: number }>;
        }
      ).streams.some((x) => x.method === 'poll' && x.queued > 0);
    await waitFor(queuedOnPoll, 2000, 'the SET queued on the poll stream');
    const out = await runCliClean(['streams', 'list'], envFor(ports[2] as number));
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(
      lines.some((l) => /\tpoll\tenabled\tqueued=[1-9]\d*\tsession-revoked\t-\taud=urn:tessera:ssf:/.test(l)),
    ).toBe(true);
    expect(
      lines.some((l) => /\tpush\tenabled\tqueued=\d+\tsession-revoked\thttp:\/\/127\.0\.0\.1:/.test(l)),
    ).toBe(true);
  });
});
