import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env-config.ts';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      issuer: 'http://127.0.0.1:4000',
      audience: 'tessera',
      tokenMode: 'jwt',
      signingAlg: 'EdDSA',
      accessTtlMs: 600_000,
      idleTimeoutMs: 86_400_000,
      absoluteTimeoutMs: 30 * 86_400_000,
      concurrency: 'allow',
      maxSessions: 0,
      refreshPolicy: 'rotate',
      refreshGraceMs: 10_000,
      adminToken: undefined,
      cookieSecure: false,
      redis: null,
      logLevel: 'info',
    });
    expect(c.users).toMatch(/^file:.*\.tessera\/users\.json$/);
  });

  it('makes cookies Secure unless the issuer is plain http on a loopback host', () => {
    expect(loadConfig({}).cookieSecure).toBe(false);
    expect(loadConfig({ TESSERA_ISSUER: 'http://localhost:4000' }).cookieSecure).toBe(false);
    expect(loadConfig({ TESSERA_ISSUER: 'http://[::1]:4000' }).cookieSecure).toBe(false);
    expect(loadConfig({ TESSERA_ISSUER: 'https://127.0.0.1:4000' }).cookieSecure).toBe(true);
    expect(loadConfig({ TESSERA_ISSUER: 'https://auth.example.com' }).cookieSecure).toBe(true);
    expect(loadConfig({ TESSERA_ISSUER: 'http://auth.internal' }).cookieSecure).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0' }).cookieSecure).toBe(true);
    expect(loadConfig({ TESSERA_COOKIE_SECURE: 'true' }).cookieSecure).toBe(true);
    expect(
      loadConfig({ TESSERA_ISSUER: 'https://a.example', TESSERA_COOKIE_SECURE: 'false' }).cookieSecure,
    ).toBe(false);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      TESSERA_ISSUER: 'https://auth.example.com/',
      TESSERA_TOKEN_MODE: 'opaque',
      TESSERA_SIGNING_ALG: 'RS256',
      TESSERA_ACCESS_TTL: '5m',
      TESSERA_IDLE_TIMEOUT: '2h',
      TESSERA_ABSOLUTE_TIMEOUT: '7d',
      TESSERA_CONCURRENCY: 'replace',
      TESSERA_MAX_SESSIONS: '5',
      TESSERA_REFRESH_POLICY: 'strict',
      TESSERA_REFRESH_GRACE: '60s',
      TESSERA_USERS: 'postgres://u:p@127.0.0.1:5432/test',
      TESSERA_REDIS_URL: 'redis://127.0.0.1:6390',
      TESSERA_COOKIE_SECURE: 'false',
      TESSERA_COOKIE_DOMAIN: 'example.com',
      TESSERA_ADMIN_TOKEN: 'x'.repeat(32),
      LOG_LEVEL: 'warn',
    });
    expect(c).toMatchObject({
      port: 8080,
      issuer: 'https://auth.example.com',
      tokenMode: 'opaque',
      signingAlg: 'RS256',
      accessTtlMs: 300_000,
      idleTimeoutMs: 7_200_000,
      absoluteTimeoutMs: 7 * 86_400_000,
      concurrency: 'replace',
      maxSessions: 5,
      refreshPolicy: 'strict',
      refreshGraceMs: 60_000,
      cookieSecure: false,
      cookieDomain: 'example.com',
      redis: { kind: 'single', url: 'redis://127.0.0.1:6390' },
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['TESSERA_TOKEN_MODE', 'cookie'],
    ['TESSERA_SIGNING_ALG', 'HS256'],
    ['TESSERA_ACCESS_TTL', '10 minutes'],
    ['TESSERA_IDLE_TIMEOUT', '-1s'],
    ['TESSERA_REFRESH_GRACE', '61s'],
    ['TESSERA_CONCURRENCY', 'maybe'],
    ['TESSERA_MAX_SESSIONS', '-3'],
    ['TESSERA_REFRESH_POLICY', 'sometimes'],
    ['TESSERA_USERS', 'mysql://x'],
    ['TESSERA_COOKIE_SECURE', 'perhaps'],
    ['TESSERA_ISSUER', 'not a url'],
    ['TESSERA_REDIS_URL', 'http://x'],
    ['TESSERA_REDIS_CLUSTER', 'nohostport'],
    ['TESSERA_ADMIN_TOKEN', 'short'],
    ['TESSERA_FAIL_OPEN', 'sure'],
    ['TESSERA_REVOCATION_CHECK', 'never'],
    ['LOG_LEVEL', 'loud'],
    ['TESSERA_HEADERS_TIMEOUT', 'soon'],
    ['TESSERA_REQUEST_TIMEOUT', '0s'],
    ['TESSERA_HEADERS_TIMEOUT', '1h'],
  ])('%s=%s stops start-up naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(`${name}: expected`)).toBe(true);
    expect(message).not.toContain('\n');
  });
});
