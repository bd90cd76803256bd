import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompactJWSHeaderParameters, calculateJwkThumbprint } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../lib/clock.ts';
import { CLOCK_TOLERANCE_SECONDS, signAccessToken, verifyAccessToken } from '../tokens/access-token.ts';
import { generateSigningKey, KEY_FILE_CHECK_INTERVAL_MS, loadKeyRing, type SigningAlg } from './key-ring.ts';

const root = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `d${++dirCount}`, 'data');

const LIFETIME = 600_000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth', 'tessera'];
const PUBLIC_MEMBERS: Record<SigningAlg, string[]> = {
  EdDSA: ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
  ES256: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
  RS256: ['alg', 'e', 'kid', 'kty', 'n', 'use'],
};

async function signWith(ring: Awaited<ReturnType<typeof loadKeyRing>>, nowMs: number): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const claims = { iss: 'https://auth.test', sub: 'u1', aud: 'tessera', iat: now, exp: now + 600 };
  return signAccessToken(await ring.signingKey(), { ...claims, jti: 'j1', sid: 'u1.s', roles: ['user'] });
}

async function verifyWith(ring: Awaited<ReturnType<typeof loadKeyRing>>, token: string, now: number) {
  const options = {
    issuer: 'https://auth.test',
    audience: 'tessera',
    algorithms: ['EdDSA', 'ES256', 'RS256'],
  };
  return verifyAccessToken(token, ring.verificationKeys(), { ...options, now } as Parameters<
    typeof verifyAccessToken
  >[2]);
}

describe.each(['EdDSA', 'ES256', 'RS256'] as const)('key ring with %s', (alg) => {
  it('generates a key set on first start, 0600 in a 0700 dir, and reloads the same key', async () => {
    const dataDir = freshDir();
    const ring = await loadKeyRing({ alg, dataDir, maxTokenLifetimeMs: LIFETIME });
    const key = await ring.signingKey();
    expect(key.alg).toBe(alg);
    expect(key.privateKey.type).toBe('private');
    expect(key.privateKey.extractable).toBe(false);
    expect(statSync(join(dataDir, 'keys.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    const file = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8'));
    expect(file.keys).toHaveLength(1);
    expect(file.keys[0]).toMatchObject({ kid: key.kid, alg, use: 'sig' });
    expect(file.keys[0].tessera.createdAt).toBeTypeOf('number');
    expect(await calculateJwkThumbprint(file.keys[0])).toBe(key.kid);

    const again = await loadKeyRing({ alg, dataDir, maxTokenLifetimeMs: LIFETIME });
    expect((await again.signingKey()).kid).toBe(key.kid);
    ring.close();
    again.close();
  });

  it('publishes public members only', async () => {
    const ring = await loadKeyRing({ alg, dataDir: freshDir(), maxTokenLifetimeMs: LIFETIME });
    await ring.rotate({ activateInMs: 60_000 });
    const { keys } = await ring.jwks();
    expect(keys).toHaveLength(2);
    for (const jwk of keys) {
      expect(Object.keys(jwk).sort()).toEqual(PUBLIC_MEMBERS[alg]);
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      expect(jwk).toMatchObject({ alg, use: 'sig' });
    }
    ring.close();
  });
});

describe('rotation', () => {
  it('publishes the new key at once, signs with it after activation, drops the old after the lifetime', async () => {
    const clock = new ManualClock();
    const ring = await loadKeyRing({
      alg: 'EdDSA',
      dataDir: freshDir(),
      maxTokenLifetimeMs: LIFETIME,
      clock,
    });
    const oldKid = (await ring.signingKey()).kid;
    const oldToken = await signWith(ring, clock.now());

    const { kid: newKid } = await ring.rotate({ activateInMs: 5_000 });
    expect(newKid).not.toBe(oldKid);
    expect((await ring.jwks()).keys.map((k) => k.kid).sort()).toEqual([newKid, oldKid].sort());
    expect((await ring.signingKey()).kid).toBe(oldKid);

    clock.advance(5_000);
    expect((await ring.signingKey()).kid).toBe(newKid);
    expect((await verifyWith(ring, oldToken, clock.now())).ok).toBe(true);
    expect((await verifyWith(ring, await signWith(ring, clock.now()), clock.now())).ok).toBe(true);

    // The old key retired at activation (t0 + 5 s); it stays until retiredAt + lifetime + tolerance.
    clock.advance(LIFETIME + CLOCK_TOLERANCE_SECONDS * 1000 - 1);
    expect((await ring.jwks()).keys.map((k) => k.kid)).toContain(oldKid);
    clock.advance(1);
    expect((await ring.jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
    const resolve = ring.verificationKeys();
    const header: CompactJWSHeaderParameters = { alg: 'EdDSA', kid: oldKid };
    await expect(resolve(header, { payload: '', signature: '' })).rejects.toThrow();
    ring.close();
  });

  it('is seen by a second instance on the same dir without restart', async () => {
    const clock = new ManualClock();
    const dataDir = freshDir();
    const first = await loadKeyRing({ alg: 'ES256', dataDir, maxTokenLifetimeMs: LIFETIME, clock });
    const second = await loadKeyRing({ alg: 'ES256', dataDir, maxTokenLifetimeMs: LIFETIME, clock });
    const oldKid = (await second.signingKey()).kid;
    expect((await first.signingKey()).kid).toBe(oldKid);

    const { kid } = await first.rotate();
    clock.advance(KEY_FILE_CHECK_INTERVAL_MS);
    expect((await second.signingKey()).kid).toBe(kid);
    expect((await second.jwks()).keys.map((k) => k.kid).sort()).toEqual([kid, oldKid].sort());
    expect((await verifyWith(second, await signWith(first, clock.now()), clock.now())).ok).toBe(true);
    expect(statSync(join(dataDir, 'keys.json')).mode & 0o777).toBe(0o600);
    first.close();
    second.close();
  });

  it('keeps every key when two instances rotate at once, and prunes expired keys from the file', async () => {
    const clock = new ManualClock();
    const dataDir = freshDir();
    const a = await loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME, clock });
    const b = await loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME, clock });
    const [ra, rb] = await Promise.all([a.rotate(), b.rotate()]);
    const kids = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')).keys.map(
      (k: { kid: string }) => k.kid,
    );
    expect(kids).toHaveLength(3);
    expect(kids).toEqual(expect.arrayContaining([ra.kid, rb.kid]));

    clock.advance(LIFETIME + CLOCK_TOLERANCE_SECONDS * 1000);
    const { kid } = await a.rotate();
    const left = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')).keys.map(
      (k: { kid: string }) => k.kid,
    );
    expect(left).toHaveLength(2); // the two retired before the lifetime are gone; the last current is retired now
    expect(left).toContain(kid);
    a.close();
    b.close();
  });

  it('gives one key set when two instances start at once on an empty dir', async () => {
    const dataDir = freshDir();
    const [a, b] = await Promise.all([
      loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME }),
      loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME }),
    ]);
    expect((await a.signingKey()).kid).toBe((await b.signingKey()).kid);
  });

  it('switches to a key of the configured algorithm when it changed, keeping the old one public', async () => {
    const dataDir = freshDir();
    const eddsa = await loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME });
    const oldKid = (await eddsa.signingKey()).kid;
    // Two instances starting at once with the new algorithm make one new key, not two.
    const [es256, other] = await Promise.all([
      loadKeyRing({ alg: 'ES256', dataDir, maxTokenLifetimeMs: LIFETIME }),
      loadKeyRing({ alg: 'ES256', dataDir, maxTokenLifetimeMs: LIFETIME }),
    ]);
    const key = await es256.signingKey();
    expect(key.alg).toBe('ES256');
    expect((await other.signingKey()).kid).toBe(key.kid);
    expect((await es256.jwks()).keys.map((k) => k.kid).sort()).toEqual([key.kid, oldKid].sort());
  });

  it('keeps the current keys when the file is replaced by something malformed', async () => {
    const clock = new ManualClock();
    const dataDir = freshDir();
    const ring = await loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME, clock });
    const kid = (await ring.signingKey()).kid;
    writeFileSync(join(dataDir, 'keys.json'), '{"keys": [');
    clock.advance(KEY_FILE_CHECK_INTERVAL_MS);
    expect((await ring.signingKey()).kid).toBe(kid);
    // A valid file without a usable key of the ring's algorithm is not applied either.
    writeFileSync(join(dataDir, 'keys.json'), JSON.stringify({ keys: [await generateSigningKey('ES256')] }));
    clock.advance(KEY_FILE_CHECK_INTERVAL_MS);
    expect((await ring.signingKey()).kid).toBe(kid);
    expect((await ring.jwks()).keys.map((k) => k.kid)).toEqual([kid]);
  });
});

describe('shared key sets (keysJson, keysFile)', () => {
  it('lets two instances share one key set from keysJson', async () => {
    const jwk = await generateSigningKey('EdDSA');
    const keysJson = JSON.stringify({ keys: [jwk] });
    const a = await loadKeyRing({ alg: 'EdDSA', keysJson, maxTokenLifetimeMs: LIFETIME });
    const b = await loadKeyRing({ alg: 'EdDSA', keysJson, maxTokenLifetimeMs: LIFETIME });
    expect((await a.signingKey()).kid).toBe(jwk.kid);
    expect((await b.jwks()).keys).toEqual((await a.jwks()).keys);
    expect((await verifyWith(b, await signWith(a, Date.now()), Date.now())).ok).toBe(true);
    await expect(a.rotate()).rejects.toThrow(/read-only/);
  });

  it('signs with the newest activated, non-retired key and computes missing kids', async () => {
    const clock = new ManualClock();
    const t = clock.now();
    const [old, current, pending, retired] = await Promise.all([
      generateSigningKey('ES256'),
      generateSigningKey('ES256'),
      generateSigningKey('ES256'),
      generateSigningKey('ES256'),
    ]);
    const { kid: _dropped, ...currentWithoutKid } = current;
    const keysJson = JSON.stringify({
      keys: [
        { ...old, tessera: { createdAt: t - 3000, activatesAt: t - 3000 } },
        { ...currentWithoutKid, tessera: { createdAt: t - 2000, activatesAt: t - 2000 } },
        { ...pending, tessera: { createdAt: t - 1000, activatesAt: t + 1000 } },
        { ...retired, tessera: { createdAt: t - 500, activatesAt: t - 500, retiredAt: t - 100 } },
      ],
    });
    const ring = await loadKeyRing({ alg: 'ES256', keysJson, maxTokenLifetimeMs: LIFETIME, clock });
    expect((await ring.signingKey()).kid).toBe(current.kid);
    expect((await ring.jwks()).keys).toHaveLength(4);
    clock.advance(1000);
    expect((await ring.signingKey()).kid).toBe(pending.kid);
  });

  it('reads a keysFile and applies a rotation written to it', async () => {
    const clock = new ManualClock();
    const keysFile = join(root, 'shared-keys.json');
    writeFileSync(keysFile, JSON.stringify({ keys: [await generateSigningKey('RS256')] }), { mode: 0o600 });
    const a = await loadKeyRing({ alg: 'RS256', keysFile, maxTokenLifetimeMs: LIFETIME, clock });
    const b = await loadKeyRing({ alg: 'RS256', keysFile, maxTokenLifetimeMs: LIFETIME, clock });
    const { kid } = await a.rotate();
    clock.advance(KEY_FILE_CHECK_INTERVAL_MS);
    expect((await b.signingKey()).kid).toBe(kid);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
  });

  it('refuses malformed key sets at setup without echoing them', async () => {
    const secretish = 'not-json-SECRET-MATERIAL';
    const load = (keysJson: string, alg: SigningAlg = 'EdDSA') =>
      loadKeyRing({ alg, keysJson, maxTokenLifetimeMs: LIFETIME });
    await expect(load(secretish)).rejects.toThrow(TypeError);
    await expect(load(secretish)).rejects.not.toThrow(/SECRET/);
    await expect(load('{"keys": []}')).rejects.toThrow(TypeError);
    const { d: _d, ...publicOnly } = await generateSigningKey('EdDSA');
    await expect(load(JSON.stringify({ keys: [publicOnly] }))).rejects.toThrow(/private/);
    const eddsa = JSON.stringify({ keys: [await generateSigningKey('EdDSA')] });
    await expect(load(eddsa, 'ES256')).rejects.toThrow(/no active ES256 key/);
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
    await expect(load(JSON.stringify({ keys: [weakRsa] }), 'RS256')).rejects.toThrow(/invalid for RS256/);
    await expect(loadKeyRing({ alg: 'EdDSA', maxTokenLifetimeMs: LIFETIME })).rejects.toThrow(TypeError);
    const both = {
      alg: 'EdDSA',
      keysJson: eddsa,
      keysFile: join(root, 'x.json'),
      maxTokenLifetimeMs: 1,
    } as const;
    await expect(loadKeyRing(both)).rejects.toThrow(/not both/);
    const badLifetime = { alg: 'EdDSA', keysJson: eddsa, maxTokenLifetimeMs: -1 } as const;
    await expect(loadKeyRing(badLifetime)).rejects.toThrow(TypeError);
    await expect(
      loadKeyRing({ alg: 'EdDSA', keysFile: join(root, 'missing.json'), maxTokenLifetimeMs: LIFETIME }),
    ).rejects.toThrow(/not found/);
  });
});

describe('revoking a key (tessera keys revoke)', () => {
  it('the current key leaves the JWKS and verification at once, a new key signs, list shows both', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const dataDir = freshDir();
    const ring = await loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME, clock });
    const other = await loadKeyRing({ alg: 'EdDSA', dataDir, maxTokenLifetimeMs: LIFETIME, clock });
    const token = await signWith(ring, clock.now());
    const { kid } = await ring.signingKey();
    expect((await verifyWith(other, token, clock.now())).ok).toBe(true);
    const revoked = await ring.revoke(kid);
    expect(revoked.kid).toBe(kid);
    expect(revoked.replacedBy).toEqual(expect.any(String));
    expect((await ring.signingKey()).kid).toBe(revoked.replacedBy);
    expect((await ring.jwks()).keys.map((k) => k.kid)).toEqual([revoked.replacedBy]);
    expect(await verifyWith(ring, token, clock.now())).toEqual({ ok: false, reason: 'invalid' });
    // Another instance on the same file: at its next key-file check.
    clock.advance(KEY_FILE_CHECK_INTERVAL_MS);
    expect(await verifyWith(other, token, clock.now())).toEqual({ ok: false, reason: 'invalid' });
    expect((await other.signingKey()).kid).toBe(revoked.replacedBy);
    expect((await ring.list()).map((k) => [k.kid, k.state])).toEqual([
      [revoked.replacedBy, 'current'],
      [kid, 'revoked'],
    ]);
    // A later rotation keeps it revoked.
    await ring.rotate();
    expect((await ring.list()).find((k) => k.kid === kid)?.state).toBe('revoked');
    expect((await ring.jwks()).keys.map((k) => k.kid)).not.toContain(kid);
    await expect(ring.revoke('no-such-kid')).rejects.toThrow(/no key with kid/);
    ring.close();
    other.close();
  });

  it('revoking a retiring key makes no new key', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const ring = await loadKeyRing({
      alg: 'EdDSA',
      dataDir: freshDir(),
      maxTokenLifetimeMs: LIFETIME,
      clock,
    });
    const { kid: old } = await ring.signingKey();
    clock.advance(1000);
    const { kid: fresh } = await ring.rotate();
    expect((await ring.revoke(old)).replacedBy).toBeUndefined();
    expect((await ring.signingKey()).kid).toBe(fresh);
    ring.close();
  });
});

describe('token lifetime bound (contract §3 "Token lifetime")', () => {
  it('refuses exp − iat above maxLifetimeMs plus the tolerance, whatever key signed it', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const ring = await loadKeyRing({
      alg: 'EdDSA',
      dataDir: freshDir(),
      maxTokenLifetimeMs: LIFETIME,
      clock,
    });
    const now = Math.floor(clock.now() / 1000);
    const sign = (lifetime: number) =>
      ring.signingKey().then((key) =>
        signAccessToken(key, {
          iss: 'https://auth.test',
          sub: 'u1',
          aud: 'tessera',
          iat: now,
          exp: now + lifetime,
          jti: 'j1',
          sid: 'u1.s',
          roles: [],
        }),
      );
    const options = { issuer: 'https://auth.test', audience: 'tessera', algorithms: ['EdDSA' as const] };
    const verify = async (token: string, maxLifetimeMs?: number) =>
      verifyAccessToken(token, ring.verificationKeys(), {
        ...options,
        now: clock.now(),
        ...(maxLifetimeMs === undefined ? {} : { maxLifetimeMs }),
      });
    const longLived = await sign(100 * 365 * 86_400);
    expect((await verify(longLived)).ok).toBe(true);
    expect(await verify(longLived, 600_000)).toEqual({ ok: false, reason: 'invalid' });
    expect((await verify(await sign(600 + CLOCK_TOLERANCE_SECONDS), 600_000)).ok).toBe(true);
    expect((await verify(await sign(601 + CLOCK_TOLERANCE_SECONDS), 600_000)).ok).toBe(false);
    const ok = await verify(await sign(600), 600_000);
    expect(ok.ok && ok.kid).toBe((await ring.signingKey()).kid);
    await expect(verify(longLived, 0)).rejects.toThrow(TypeError);
    ring.close();
  });
});

describe('algorithms of the keys actually in the set', () => {
  it('a token whose alg is not its key’s (nor any key’s in the set) is refused', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const ring = await loadKeyRing({
      alg: 'EdDSA',
      dataDir: freshDir(),
      maxTokenLifetimeMs: LIFETIME,
      clock,
    });
    const { kid } = await ring.signingKey();
    const foreign = await generateSigningKey('ES256');
    const handle = await loadKeyRing({
      alg: 'ES256',
      keysJson: JSON.stringify({ keys: [{ ...foreign, kid, tessera: { createdAt: 0, activatesAt: 0 } }] }),
      maxTokenLifetimeMs: LIFETIME,
      clock,
    });
    // Signed by an ES256 key that claims the EdDSA key's kid: the set holds no ES256 key.
    const token = await signWith(handle, clock.now());
    expect(await verifyWith(ring, token, clock.now())).toEqual({ ok: false, reason: 'invalid' });
    expect((await verifyWith(ring, await signWith(ring, clock.now()), clock.now())).ok).toBe(true);
    ring.close();
    handle.close();
  });
});
