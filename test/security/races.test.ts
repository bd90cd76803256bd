import { createGuard, type Guard } from '@tessera/guard';
import { type RedisServer, startRedis, startTcpProxy, type TcpProxy } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, recordSecret } from './support/secrets.ts';
import { ADMIN_TOKEN, PASSWORDS, type Stack, startStack, type TokenResponse } from './support/stack.ts';

/**
 * Races with real auth-service processes (several on one Redis) and a real Redis. Each race
 * is repeated; the repetitions are counted and printed.
 */
let redis: RedisServer;
let stack: Stack;
/** Same store, refresh grace 1 s (reuse detection). */
let shortGrace: string;
/** Two instances with TESSERA_CONCURRENCY=reject. */
let rejectA: string;
let rejectB: string;
const repetitions: Record<string, number> = {};
/** Redis link of the in-process guard (cut and restored by the reconnect race). */
let link: TcpProxy;
/** A guard (the library, in this process) on the revocation feed, through `link`. */
let guard: Guard;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ redisUrl: redis.url, services: false });
  link = await startTcpProxy(redis.port);
  guard = createGuard({
    authUrl: stack.authUrl,
    redis: { kind: 'single', url: link.url },
    env: {},
    connectTimeoutMs: 5000,
  });
  await guard.ready();
  [shortGrace, rejectA, rejectB] = await Promise.all([
    stack.startAuthInstance({ TESSERA_REFRESH_GRACE: '1s' }),
    stack.startAuthInstance({ TESSERA_CONCURRENCY: 'reject' }),
    stack.startAuthInstance({ TESSERA_CONCURRENCY: 'reject' }),
  ]);
}, 90_000);

afterAll(async () => {
  await guard?.close();
  await link?.close();
  await stack?.stop();
  await redis?.stop();
  const total = Object.values(repetitions).reduce((a, b) => a + b, 0);
  console.log(
    `races: ${total} repetitions (${Object.entries(repetitions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  );
  expect(findLeaks(stack?.processes.flatMap((p) => p.output) ?? [])).toEqual([]);
});

const json = { 'content-type': 'application/json' };

async function login(base: string, username: string, force = false): Promise<Response> {
  return fetch(`${base}/v1/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username, password: PASSWORDS[username], ...(force ? { force: true } : {}) }),
  });
}

async function loginOk(base: string, username: string): Promise<TokenResponse> {
  const response = await login(base, username);
  expect(response.status).toBe(200);
  const body = (await response.json()) as TokenResponse;
  recordSecret(body.accessToken);
  if (body.refreshToken) recordSecret(body.refreshToken);
  return body;
}

async function refresh(
  base: string,
  refreshToken: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/v1/refresh`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ refreshToken }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (typeof body.refreshToken === 'string') recordSecret(body.refreshToken);
  if (typeof body.accessToken === 'string') recordSecret(body.accessToken);
  return { status: response.status, body };
}

async function sessionStatus(base: string, accessToken: string): Promise<number> {
  const response = await fetch(`${base}/v1/session`, { headers: { authorization: `Bearer ${accessToken}` } });
  await response.arrayBuffer();
  return response.status;
}

/** Polls until the guard refuses `token` with `code` (feed propagation), within `ms`. */
async function guardRefuses(token: string, code: string, ms = 3000): Promise<void> {
  const started = performance.now();
  for (;;) {
    const result = await guard.authenticate(token);
    if (!result.ok && result.error.code === code) return;
    if (performance.now() - started > ms) {
      throw new Error(
        `guard: ${result.ok ? 'accepted' : result.error.code} after ${ms} ms, expected ${code}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function feedCurrent(): Promise<void> {
  const started = performance.now();
  while (!guard.feedStatus()?.current) {
    if (performance.now() - started > 5000) throw new Error('the guard feed did not become current');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const count = (name: string) => {
  repetitions[name] = (repetitions[name] ?? 0) + 1;
};

describe('races (real processes, real Redis)', () => {
  it('100 concurrent refreshes with one refresh token: one rotation, every answer the same successor', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { refreshToken } = await loginOk(stack.authUrl, 'alice');
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => refresh(stack.authUrl, refreshToken as string)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
      const successors = new Set(answers.map((a) => a.body.refreshToken));
      expect(successors.size).toBe(1);
      const [successor] = [...successors] as string[];
      expect(successor).not.toBe(refreshToken);
      expect((await refresh(stack.authUrl, successor as string)).status).toBe(200);
      count('concurrent refresh');
    }
  }, 60_000);

  it('a refresh token reused after the grace window revokes the whole session', async () => {
    for (let round = 0; round < 2; round += 1) {
      const first = await loginOk(shortGrace, 'alice');
      const rotated = await refresh(shortGrace, first.refreshToken as string);
      expect(rotated.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1300)); // the grace window (1 s) passing is the condition
      const reused = await refresh(shortGrace, first.refreshToken as string);
      expect(reused.status).toBe(401);
      expect(reused.body.code).toBe('refresh_token_reused');
      expect((await refresh(shortGrace, rotated.body.refreshToken as string)).status).toBe(401);
      expect(await sessionStatus(stack.authUrl, rotated.body.accessToken as string)).toBe(401);
      expect(await sessionStatus(stack.authUrl, first.accessToken)).toBe(401);
      count('reuse after grace');
    }
  }, 30_000);

  it('logout racing refresh: once logout answered, no refresh of that session ever succeeds', async () => {
    for (let round = 0; round < 10; round += 1) {
      const session = await loginOk(stack.authUrl, 'alice');
      const obtained: string[] = [session.refreshToken as string];
      const accessTokens: string[] = [session.accessToken];
      const refreshes = Array.from({ length: 10 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i % 5));
        const answer = await refresh(stack.authUrl, session.refreshToken as string);
        if (answer.status === 200) {
          obtained.push(answer.body.refreshToken as string);
          accessTokens.push(answer.body.accessToken as string);
        } else expect(answer.status).toBe(401);
      });
      const logout = fetch(`${stack.authUrl}/v1/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session.accessToken}` },
      });
      const answered = await logout;
      expect(answered.status).toBe(204);
      // From here on nothing may succeed: refreshes still in flight included.
      const late = await Promise.all(obtained.map((token) => refresh(stack.authUrl, token)));
      await Promise.all(refreshes);
      const after = await Promise.all([...new Set(obtained)].map((token) => refresh(stack.authUrl, token)));
      for (const answer of [...late, ...after]) expect(answer.status).toBe(401);
      for (const token of accessTokens) expect(await sessionStatus(stack.authUrl, token)).toBe(401);
      count('logout vs refresh');
    }
  }, 60_000);

  it('revoke-all racing logins: every session created before the revoke-all answered is refused afterwards', async () => {
    for (let round = 0; round < 10; round += 1) {
      const caller = await loginOk(stack.authUrl, 'alice');
      const logins: { answeredAt: number; body: TokenResponse }[] = [];
      const racing = Array.from({ length: 8 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i));
        const response = await login(stack.authUrl, 'alice');
        const answeredAt = performance.now();
        expect(response.status).toBe(200);
        const body = (await response.json()) as TokenResponse;
        recordSecret(body.accessToken);
        logins.push({ answeredAt, body });
      });
      await new Promise((resolve) => setTimeout(resolve, 3));
      const revoked = await fetch(`${stack.authUrl}/v1/logout/all`, {
        method: 'POST',
        headers: { authorization: `Bearer ${caller.accessToken}` },
      });
      const revokedAt = performance.now();
      expect(revoked.status).toBe(204);
      await Promise.all(racing);
      const before = logins.filter((l) => l.answeredAt < revokedAt);
      for (const { body } of before) {
        expect(await sessionStatus(stack.authUrl, body.accessToken)).toBe(401);
        await guardRefuses(body.accessToken, 'session_revoked');
        expect((await refresh(stack.authUrl, body.refreshToken as string)).status).toBe(401);
      }
      expect(await sessionStatus(stack.authUrl, caller.accessToken)).toBe(401);
      count('revoke-all vs login');
    }
  }, 60_000);

  it('two auth instances racing a reject-policy login: exactly one session', async () => {
    for (let round = 0; round < 10; round += 1) {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => login(i % 2 === 0 ? rejectA : rejectB, 'root')),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 409, 409, 409, 409, 409]);
      const winner = answers.find((a) => a.status === 200) as Response;
      const body = (await winner.json()) as TokenResponse;
      recordSecret(body.accessToken);
      for (const loser of answers.filter((a) => a !== winner)) {
        expect(((await loser.json()) as { code: string }).code).toBe('session_exists');
      }
      const listed = await fetch(`${stack.authUrl}/v1/admin/users/root/sessions`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(((await listed.json()) as { sessions: unknown[] }).sessions).toHaveLength(1);
      const out = await fetch(`${rejectA}/v1/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${body.accessToken}` },
      });
      expect(out.status).toBe(204);
      count('reject login across instances');
    }
  }, 60_000);

  describe('admin revoke racing the guard feed reconnect', () => {
    it('a revocation made while the feed link is down or reconnecting is applied after the reconnect', async () => {
      for (let round = 0; round < 4; round += 1) {
        await feedCurrent();
        const { accessToken } = await loginOk(stack.authUrl, 'alice');
        const first = await guard.authenticate(accessToken);
        expect(first.ok ? 'ok' : `${first.error.code}`).toBe('ok');
        link.cut();
        const restoreAfter = (round * 37) % 60;
        const revokeAfter = (round * 23) % 60;
        await Promise.all([
          new Promise<void>((resolve) =>
            setTimeout(() => {
              link.restore();
              resolve();
            }, restoreAfter),
          ),
          new Promise<void>((resolve, reject) =>
            setTimeout(() => {
              fetch(`${stack.authUrl}/v1/admin/users/alice/sessions`, {
                method: 'DELETE',
                headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
              })
                .then((r) => (r.status === 204 ? resolve() : reject(new Error(`revoke: ${r.status}`))))
                .catch(reject);
            }, revokeAfter),
          ),
        ]);
        const started = performance.now();
        for (;;) {
          const result = await guard.authenticate(accessToken);
          if (!result.ok) break;
          if (performance.now() - started > 4000)
            throw new Error('revoked session still accepted 4 s after the reconnect');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        for (let i = 0; i < 20; i += 1) expect((await guard.authenticate(accessToken)).ok).toBe(false);
        count('revoke vs feed reconnect');
      }
    }, 90_000);
  });
});
