import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** Token forging for the attack corpus (test-only; the product never builds JWTs by hand). */
export type AsymmetricAlg = 'EdDSA' | 'ES256' | 'RS256';

export const b64u = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');
export const fromB64u = (value: string): Buffer => Buffer.from(value, 'base64url');
export const encodeJson = (value: unknown): string => b64u(JSON.stringify(value));

export interface DecodedToken {
  h: string;
  p: string;
  s: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export function decodeToken(token: string): DecodedToken {
  const [h = '', p = '', s = ''] = token.split('.');
  return {
    h,
    p,
    s,
    header: JSON.parse(fromB64u(h).toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(fromB64u(p).toString('utf8')) as Record<string, unknown>,
  };
}

/** Signs `h.p` (both already base64url) with an asymmetric key, as JWS does. */
export function signInput(alg: AsymmetricAlg, h: string, p: string, key: KeyObject): string {
  const input = Buffer.from(`${h}.${p}`);
  const signature =
    alg === 'EdDSA'
      ? sign(null, input, key)
      : alg === 'ES256'
        ? sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', input, key);
  return `${h}.${p}.${b64u(signature)}`;
}

/** Compact JWS from a header and payload object. */
export function signToken(
  alg: AsymmetricAlg,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  return signInput(alg, encodeJson(header), encodeJson(payload), key);
}

/** HS256/384/512 with an arbitrary key (the key-confusion attack). */
export function signHmac(
  alg: 'HS256' | 'HS384' | 'HS512',
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: Uint8Array | string,
): string {
  const h = encodeJson({ ...header, alg });
  const p = encodeJson(payload);
  const mac = createHmac(`sha${alg.slice(2)}`, key)
    .update(`${h}.${p}`)
    .digest();
  return `${h}.${p}.${b64u(mac)}`;
}

/** A fresh key pair the attacker owns. */
export function attackerKeys(alg: AsymmetricAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** Order of the P-256 group. */
export const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');

/** DER `SEQUENCE { INTEGER r, INTEGER s }` of two unsigned big-endian integers. */
export function derSignature(r: Buffer, s: Buffer): Buffer {
  const integer = (value: Buffer) => {
    let bytes = value;
    while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
    if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([integer(r), integer(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
