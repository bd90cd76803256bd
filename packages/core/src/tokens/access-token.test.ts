import {
  base64url,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type KeyRing, loadKeyRing, type SigningAlg } from '../keys/key-ring.ts';
import {
  type AccessTokenClaims,
  CLOCK_TOLERANCE_SECONDS,
  signAccessToken,
  verifyAccessToken,
} from './access-token.ts';
import { MAX_TOKEN_LENGTH } from './opaque-token.ts';

const ALGS: SigningAlg[] = ['EdDSA', 'ES256', 'RS256'];
const NOW_MS = Date.UTC(2026, 0, 1);
const NOW = NOW_MS / 1000;
const ISSUER = 'https://auth.test';
const AUDIENCE = 'tessera';
const claims: AccessTokenClaims = {
  iss: ISSUER,
  sub: 'user-1',
  aud: AUDIENCE,
  iat: NOW,
  exp: NOW + 600,
  jti: 'jti-1',
  sid: 'user-1.AAAAAAAAAAAAAAAAAAAAAA',
  roles: ['user', 'admin'],
};

const rings = {} as Record<SigningAlg, KeyRing>;
let keys: JWTVerifyGetKey;

beforeAll(async () => {
  const all = await Promise.all(ALGS.map((alg) => generateSigningKey(alg)));
  for (const [i, alg] of ALGS.entries()) {
    rings[alg] = await loadKeyRing({
      alg,
      keysJson: JSON.stringify({ keys: all }),
      maxTokenLifetimeMs: 600_000,
    });
    expect((await rings[alg].signingKey()).kid).toBe(all[i]?.kid);
  }
  keys = rings.EdDSA.verificationKeys();
});

const verify = (
  token: unknown,
  overrides: { now?: number; algorithms?: SigningAlg[]; issuer?: string } = {},
) =>
  verifyAccessToken(token as string, keys, {
    issuer: overrides.issuer ?? ISSUER,
    audience: AUDIENCE,
    algorithms: overrides.algorithms ?? ALGS,
    now: overrides.now ?? NOW_MS,
  });

const sign = async (alg: SigningAlg, extra: Partial<AccessTokenClaims> = {}) =>
  signAccessToken(await rings[alg].signingKey(), { ...claims, ...extra });

/** Signs arbitrary header/payload with the ring's real key (for claim-shape tests). */
async function signRaw(
  alg: SigningAlg,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
) {
  const key = await rings[alg].signingKey();
  return new SignJWT(payload)
    .setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey);
}

describe.each(ALGS)('access tokens with %s', (alg) => {
  it('signs the exact header and claims and verifies them', async () => {
    const token = await sign(alg);
    const kid = (await rings[alg].signingKey()).kid;
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid, typ: 'at+jwt' });
    expect(decodeJwt(token)).toEqual(claims);
    expect(await verify(token)).toEqual({ ok: true, claims, kid });
  });

  it('verifies with a plain jose local JWKS built from the published JWKS alone', async () => {
    const jwks = await rings[alg].jwks();
    const { payload, protectedHeader } = await jwtVerify(await sign(alg), createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: new Date(NOW_MS),
    });
    expect(payload).toEqual(claims);
    expect(protectedHeader.typ).toBe('at+jwt');
  });

  it('refuses it when its algorithm is not configured', async () => {
    const others = ALGS.filter((other) => other !== alg);
    expect(await verify(await sign(alg), { algorithms: others })).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('claims', () => {
  it('refuses a wrong issuer or audience', async () => {
    expect(await verify(await sign('EdDSA', { iss: 'https://evil.test' }))).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await verify(await sign('EdDSA', { aud: 'other' }))).toEqual({ ok: false, reason: 'invalid' });
    expect(await verify(await sign('EdDSA'), { issuer: 'https://other.test' })).toMatchObject({ ok: false });
  });

  it('accepts exp within the tolerance and reports expired beyond it', async () => {
    const token = await sign('ES256');
    const exp = claims.exp * 1000;
    const edge = exp + CLOCK_TOLERANCE_SECONDS * 1000;
    expect((await verify(token, { now: exp - 1 })).ok).toBe(true);
    expect((await verify(token, { now: edge - 1 })).ok).toBe(true);
    expect(await verify(token, { now: edge })).toEqual({ ok: false, reason: 'expired' });
    expect(await verify(token, { now: exp + 3_600_000 })).toEqual({ ok: false, reason: 'expired' });
  });

  it('accepts nbf and iat up to the tolerance in the future, not beyond', async () => {
    const base = { ...claims } as Record<string, unknown>;
    const at = (nbf: number) => signRaw('EdDSA', { ...base, nbf });
    expect((await verify(await at(NOW + CLOCK_TOLERANCE_SECONDS))).ok).toBe(true);
    expect(await verify(await at(NOW + CLOCK_TOLERANCE_SECONDS + 1))).toEqual({
      ok: false,
      reason: 'invalid',
    });
    const iat = (value: number) => signRaw('EdDSA', { ...base, iat: value });
    expect((await verify(await iat(NOW + CLOCK_TOLERANCE_SECONDS))).ok).toBe(true);
    expect(await verify(await iat(NOW + CLOCK_TOLERANCE_SECONDS + 1))).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it.each([
    ['sub missing', { sub: undefined }],
    ['sid missing', { sid: undefined }],
    ['sid not a string', { sid: 42 }],
    ['jti missing', { jti: undefined }],
    ['roles missing', { roles: undefined }],
    ['roles not an array', { roles: 'admin' }],
    ['roles with a non-string', { roles: ['user', 1] }],
    ['exp missing', { exp: undefined }],
    ['iat missing', { iat: undefined }],
    ['iat not a number', { iat: 'now' }],
  ])('refuses a token with %s', async (_name, change) => {
    const payload: Record<string, unknown> = { ...claims, ...change };
    for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
    expect(await verify(await signRaw('ES256', payload))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('requires typ at+jwt (application/at+jwt is the same type)', async () => {
    expect(await verify(await signRaw('EdDSA', { ...claims }, { typ: 'JWT' }))).toMatchObject({ ok: false });
    expect(await verify(await signRaw('EdDSA', { ...claims }, { typ: undefined }))).toMatchObject({
      ok: false,
    });
    expect((await verify(await signRaw('EdDSA', { ...claims }, { typ: 'application/at+jwt' }))).ok).toBe(
      true,
    );
  });

  it('refuses an unknown or missing kid', async () => {
    expect(await verify(await signRaw('EdDSA', { ...claims }, { kid: 'nope' }))).toMatchObject({ ok: false });
    expect(await verify(await signRaw('EdDSA', { ...claims }, { kid: undefined }))).toMatchObject({
      ok: false,
    });
  });
});

describe('attacks', () => {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));

  it('refuses alg none', async () => {
    const kid = (await rings.EdDSA.signingKey()).kid;
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${encode({ alg, kid, typ: 'at+jwt' })}.${encode(claims)}.`;
      expect(await verify(token)).toEqual({ ok: false, reason: 'invalid' });
    }
  });

  it('refuses HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    for (const alg of ALGS) {
      const publicJwk = (await rings[alg].jwks()).keys.find((k) => k.alg === alg);
      if (publicJwk === undefined) throw new Error('no public key');
      const publicKey = await importJWK(publicJwk, alg);
      if (publicKey instanceof Uint8Array) throw new Error('unexpected key');
      const secrets = [
        await exportSPKI(publicKey),
        JSON.stringify(publicJwk),
        String(publicJwk.x ?? publicJwk.n),
      ];
      for (const secret of secrets) {
        const token = await new SignJWT({ ...claims })
          .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid, typ: 'at+jwt' })
          .sign(new TextEncoder().encode(secret));
        expect(await verify(token)).toEqual({ ok: false, reason: 'invalid' });
      }
    }
  });

  it("ignores jku, x5u and embedded jwk headers: a token signed by an attacker's key is refused", async () => {
    const attacker = await generateKeyPair('ES256');
    const attackerJwk = {
      ...(await exportJWK(attacker.publicKey)),
      alg: 'ES256',
      use: 'sig',
      kid: 'attacker',
    };
    const ownKid = (await rings.ES256.signingKey()).kid;
    const headers = {
      jku: 'https://attacker.test/jwks.json',
      x5u: 'https://attacker.test/cert.pem',
      jwk: attackerJwk,
    };
    for (const kid of ['attacker', ownKid]) {
      const token = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...headers })
        .sign(attacker.privateKey);
      expect(await verify(token)).toEqual({ ok: false, reason: 'invalid' });
    }
    // The same headers on a token our key signed change nothing: they are not used.
    expect((await verify(await signRaw('ES256', { ...claims }, headers))).ok).toBe(true);
  });

  it('refuses a valid signature over an over-long token before parsing it', async () => {
    const roles = Array.from({ length: 400 }, (_, i) => `role-${i}`);
    const token = await sign('EdDSA', { roles });
    expect(token.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    expect(await verify(token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('answers invalid for malformed input without throwing', async () => {
    const good = await sign('EdDSA');
    const [h, p, s] = good.split('.');
    const inputs: unknown[] = [
      '',
      'a.b.c',
      'a.b',
      '...',
      good.slice(0, -1),
      good.slice(0, Math.floor(good.length / 2)),
      `${good}.`,
      `${h}.${p}.${s}x`,
      `${h}.${p}`,
      `${h}.!!!!.${s}`,
      '~~~.@@@.###',
      `${encode({ alg: 'EdDSA' })}.${base64url.encode('not json')}.${s}`,
      `${base64url.encode('[')}.${p}.${s}`,
      `${encode([1, 2])}.${encode([3])}.${s}`,
      'a'.repeat(1024 * 1024),
      `${'a.'.repeat(512 * 1024)}a`,
      ` ${good}`,
      undefined,
      null,
      42,
      {},
      [],
      ['a', 'b', 'c'],
      new TextEncoder().encode(good),
      { toString: () => good },
    ];
    for (const input of inputs) {
      await expect(verify(input)).resolves.toEqual({ ok: false, reason: 'invalid' });
    }
  });
});

describe('misuse', () => {
  it('throws TypeError for bad claims at signing and bad options at verification', async () => {
    const key = await rings.EdDSA.signingKey();
    await expect(signAccessToken(key, { ...claims, roles: 'admin' as unknown as string[] })).rejects.toThrow(
      TypeError,
    );
    await expect(signAccessToken(key, { ...claims, sid: '' })).rejects.toThrow(TypeError);
    const options = { issuer: ISSUER, audience: AUDIENCE, algorithms: [] };
    await expect(verifyAccessToken('x', keys, options)).rejects.toThrow(TypeError);
    const none = { ...options, algorithms: ['none'] as unknown as SigningAlg[] };
    await expect(verifyAccessToken('x', keys, none)).rejects.toThrow(TypeError);
  });
});
