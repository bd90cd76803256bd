import { createTestApp, type TestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';

const PASSWORD = 'correct horse battery';

function loginFrom(t: TestApp, address: string, username: string, password: string) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/login',
    remoteAddress: address,
    payload: { username, password },
  });
}

async function addUsers(t: TestApp, names: string[]): Promise<void> {
  // Sequential admin calls would cost one argon2 hash each on the event loop anyway; a few at a time.
  for (let i = 0; i < names.length; i += 10) {
    await Promise.all(names.slice(i, i + 10).map((name) => t.addUser(name, PASSWORD)));
  }
}

describe('login throttling counts failed attempts only (docs/security.md)', () => {
  it('100 different users log in from one address within a minute: all 200', async () => {
    const t = await createTestApp({ TESSERA_CONCURRENCY: 'allow' });
    try {
      const names = Array.from({ length: 100 }, (_, i) => `user${i}`);
      await addUsers(t, names);
      const codes: number[] = [];
      for (const name of names) codes.push((await loginFrom(t, '203.0.113.7', name, PASSWORD)).statusCode);
      expect(codes.filter((c) => c !== 200)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('one user logs in successfully 20 times in a minute: all 200', async () => {
    const t = await createTestApp();
    try {
      await t.addUser('alice', PASSWORD);
      const codes: number[] = [];
      for (let i = 0; i < 20; i++)
        codes.push((await loginFrom(t, '203.0.113.7', 'alice', PASSWORD)).statusCode);
      expect(codes).toEqual(Array(20).fill(200));
    } finally {
      await t.close();
    }
  });

  it("10 failures for alice from address A do not refuse alice's correct password from address B", async () => {
    const t = await createTestApp();
    try {
      await t.addUser('alice', PASSWORD);
      for (let i = 0; i < 10; i++) {
        expect((await loginFrom(t, '198.51.100.1', 'alice', 'wrong password')).statusCode).toBe(401);
      }
      // A itself now waits (per username and address) …
      const fromA = await loginFrom(t, '198.51.100.1', 'alice', PASSWORD);
      expect(fromA.statusCode).toBe(429);
      // … but alice from her own machine gets in, again and again.
      for (let i = 0; i < 3; i++) {
        expect((await loginFrom(t, '192.0.2.50', 'alice', PASSWORD)).statusCode).toBe(200);
      }
      // An address that has failed lately waits for the username under attack; a clean one does not.
      expect((await loginFrom(t, '198.51.100.2', 'bob', 'wrong password')).statusCode).toBe(401);
      expect((await loginFrom(t, '198.51.100.2', 'alice', PASSWORD)).statusCode).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('50 rapid failures from one address: at least one 429 with Retry-After', async () => {
    const t = await createTestApp();
    try {
      await t.addUser('alice', PASSWORD);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => loginFrom(t, '198.51.100.9', 'alice', 'wrong password')),
      );
      const limited = answers.filter((r) => r.statusCode === 429);
      expect(limited.length).toBeGreaterThan(0);
      for (const r of limited) {
        expect(r.json()).toMatchObject({ code: 'rate_limited', status: 429 });
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(answers.every((r) => r.statusCode === 401 || r.statusCode === 429)).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('failures spread over usernames hit the per-address limit', async () => {
    const t = await createTestApp({ TESSERA_LOGIN_RATE_IP: '5' });
    try {
      for (let i = 0; i < 5; i++) {
        expect((await loginFrom(t, '198.51.100.3', `nobody${i}`, 'wrong password')).statusCode).toBe(401);
      }
      const limited = await loginFrom(t, '198.51.100.3', 'nobody-else', 'wrong password');
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Another address is not affected.
      expect((await loginFrom(t, '198.51.100.4', 'nobody-else', 'wrong password')).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });
});
