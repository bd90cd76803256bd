import { createTestApp, type TestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/env-config.ts';

const PASSWORD = 'correct horse battery';

async function ipSeen(t: TestApp, remoteAddress: string, forwardedFor?: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/login',
    remoteAddress,
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    payload: { username: 'alice', password: PASSWORD },
  });
  expect(res.statusCode).toBe(200);
  return (res.json() as { session: { ip: string } }).session.ip;
}

async function withApp(trust: string | undefined, run: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await createTestApp(trust === undefined ? {} : { TESSERA_TRUST_PROXY: trust });
  try {
    await t.addUser('alice', PASSWORD);
    await run(t);
  } finally {
    await t.close();
  }
}

describe('TESSERA_TRUST_PROXY (contract §2, docs/security.md)', () => {
  it('unset or false: the socket address, whatever X-Forwarded-For says', async () => {
    for (const trust of [undefined, 'false']) {
      await withApp(trust, async (t) => {
        expect(await ipSeen(t, '192.0.2.10', '6.6.6.6')).toBe('192.0.2.10');
      });
    }
  });

  it('a hop count believes only that many proxies (the string "1" becomes the number 1)', async () => {
    await withApp('1', async (t) => {
      // The client wrote "6.6.6.6"; the proxy at 10.0.0.2 appended the address it saw.
      expect(await ipSeen(t, '10.0.0.2', '6.6.6.6, 198.51.100.7')).toBe('198.51.100.7');
      expect(await ipSeen(t, '10.0.0.2', '198.51.100.7')).toBe('198.51.100.7');
      expect(await ipSeen(t, '10.0.0.2')).toBe('10.0.0.2');
    });
    await withApp('2', async (t) => {
      expect(await ipSeen(t, '10.0.0.3', '6.6.6.6, 198.51.100.7, 10.0.0.2')).toBe('198.51.100.7');
    });
  });

  it('an address/CIDR list believes only hops from those proxies', async () => {
    await withApp('127.0.0.1, 10.0.0.0/8', async (t) => {
      expect(await ipSeen(t, '10.1.2.3', '6.6.6.6, 198.51.100.7')).toBe('198.51.100.7');
      // A chain of trusted proxies is walked from the right until the first untrusted hop.
      expect(await ipSeen(t, '10.1.2.3', '6.6.6.6, 198.51.100.7, 10.9.9.9')).toBe('198.51.100.7');
      // A client connecting directly cannot pick its address.
      expect(await ipSeen(t, '192.0.2.1', '10.0.0.1')).toBe('192.0.2.1');
    });
  });

  it('a rotated, client-written X-Forwarded-For does not escape the per-address login limit', async () => {
    const t = await createTestApp({ TESSERA_TRUST_PROXY: '1', TESSERA_LOGIN_RATE_IP: '3' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/login',
          remoteAddress: '10.0.0.2',
          headers: { 'x-forwarded-for': `6.6.6.${i}, 198.51.100.7` },
          payload: { username: `user${i}`, password: 'wrong password' },
        });
        codes.push(res.statusCode);
      }
      expect(codes).toEqual([401, 401, 401, 429, 429, 429]);
    } finally {
      await t.close();
    }
  });

  it('"true" stops start-up with one line saying what to write instead; bad lists are refused', () => {
    const failure = (value: string) => {
      try {
        loadConfig({ TESSERA_TRUST_PROXY: value });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const refused = failure('true');
    expect(refused).toBeInstanceOf(ConfigError);
    const message = (refused as Error).message;
    expect(message).toMatch(/^TESSERA_TRUST_PROXY: expected/);
    expect(message).toContain('write 1');
    expect(message).not.toContain('\n');
    for (const bad of ['yes', 'proxy.example', '10.0.0.0/33', '1.2.3', '99']) {
      expect(failure(bad), bad).toBeInstanceOf(ConfigError);
    }
    expect(loadConfig({ TESSERA_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TESSERA_TRUST_PROXY: 'loopback,::1,fd00::/8' }).trustProxy).toEqual([
      'loopback',
      '::1',
      'fd00::/8',
    ]);
  });
});
