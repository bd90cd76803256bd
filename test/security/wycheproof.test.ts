import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Wycheproof Ed25519 and ECDSA P-256/SHA-256 (IEEE P1363, the JWS ES256 form) vectors, run
 * through WebCrypto's `subtle.verify`: the primitive jose (and so every Tessera verifier) calls
 * for EdDSA and ES256. Source and licence are named in each fixture file.
 */
interface Vector {
  tcId: number;
  publicKey: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
  comment: string;
}
interface Fixture {
  source: string;
  licence: string;
  vectors: Vector[];
}

const load = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Fixture;
const hex = (value: string) => Buffer.from(value, 'hex');

async function verifies(
  vector: Vector,
  algorithm: { name: 'Ed25519' } | { name: 'ECDSA'; namedCurve: 'P-256' },
): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey('raw', hex(vector.publicKey), algorithm, false, ['verify']);
    const params = algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : algorithm;
    return await crypto.subtle.verify(params, key, hex(vector.sig), hex(vector.msg));
  } catch {
    return false; // an unimportable key or malformed signature is a refusal
  }
}

describe.each([
  ['wycheproof-ed25519.json', { name: 'Ed25519' } as const],
  ['wycheproof-ecdsa-p256-p1363.json', { name: 'ECDSA', namedCurve: 'P-256' } as const],
])('Wycheproof %s', (file, algorithm) => {
  it('accepts every valid vector and refuses every invalid one', async () => {
    const fixture = load(file);
    expect(fixture.source).toMatch(/^https:\/\/github\.com\/C2SP\/wycheproof\//);
    const wrong: string[] = [];
    for (const vector of fixture.vectors) {
      const ok = await verifies(vector, algorithm);
      if (vector.result === 'valid' && !ok)
        wrong.push(`tcId ${vector.tcId} (valid) refused: ${vector.comment}`);
      if (vector.result === 'invalid' && ok)
        wrong.push(`tcId ${vector.tcId} (invalid) accepted: ${vector.comment}`);
    }
    const invalid = fixture.vectors.filter((v) => v.result === 'invalid').length;
    console.log(`${file}: ${fixture.vectors.length} vectors (${invalid} invalid) from ${fixture.source}`);
    expect(wrong).toEqual([]);
  });
});
