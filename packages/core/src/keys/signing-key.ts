import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';

/** The JWS algorithms Tessera signs access tokens with. */
export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256';

export const SIGNING_ALGS: readonly SigningAlg[] = ['EdDSA', 'ES256', 'RS256'];

/** A private JWK as kept in a key file: `kid` (RFC 7638 thumbprint for generated keys), `alg`, `use`. */
export type PrivateSigningJwk = JWK & { kty: string; kid: string; alg: SigningAlg; use: 'sig'; d: string };

/** Public part of a signing key, as published in the JWKS. */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: SigningAlg;
  use: 'sig';
  [k: string]: unknown;
}

/** A key the ring can sign with: never the JWK, only a non-extractable `CryptoKey`. */
export interface SigningKeyHandle {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
}

/** Key type, curve and public members of each algorithm; anything else is never published. */
const KEY_SHAPES: Record<SigningAlg, { kty: string; crv?: string; members: readonly string[] }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['crv', 'x'] },
  ES256: { kty: 'EC', crv: 'P-256', members: ['crv', 'x', 'y'] },
  RS256: { kty: 'RSA', members: ['n', 'e'] },
};

export function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value);
}

/**
 * Generates a new private signing key for `alg` (Ed25519, P-256 or RSA 2048) as a JWK whose
 * `kid` is its RFC 7638 thumbprint.
 *
 * @example
 * ```ts
 * const jwk = await generateSigningKey('EdDSA');
 * console.log(jwk.kid);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7638 (JWK thumbprint)
 */
export async function generateSigningKey(alg: SigningAlg): Promise<PrivateSigningJwk> {
  if (!isSigningAlg(alg)) throw new TypeError('alg must be one of EdDSA, ES256, RS256');
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  if (typeof jwk.d !== 'string' || typeof jwk.kty !== 'string') throw new TypeError('key export failed');
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { ...jwk, kty: jwk.kty, d: jwk.d, kid, alg, use: 'sig' };
}

/** The algorithm a JWK is for: its `alg`, or inferred from `kty`/`crv`. `null` when unsupported. */
export function inferSigningAlg(jwk: JWK): SigningAlg | null {
  if (jwk.alg !== undefined) return isSigningAlg(jwk.alg) ? jwk.alg : null;
  for (const alg of SIGNING_ALGS) {
    const shape = KEY_SHAPES[alg];
    if (jwk.kty === shape.kty && (shape.crv === undefined || jwk.crv === shape.crv)) return alg;
  }
  return null;
}

/** Whether the JWK's `kty`/`crv` fit the algorithm. */
export function keyFitsAlg(jwk: JWK, alg: SigningAlg): boolean {
  const shape = KEY_SHAPES[alg];
  return jwk.kty === shape.kty && (shape.crv === undefined || jwk.crv === shape.crv);
}

/** The public JWK: an allow-list of public members, so no private member can ever leak. */
export function toPublicJwk(jwk: PrivateSigningJwk): PublicJwk {
  const shape = KEY_SHAPES[jwk.alg];
  const source = jwk as Record<string, unknown>;
  const out: PublicJwk = { kty: shape.kty, kid: jwk.kid, alg: jwk.alg, use: 'sig' };
  for (const member of shape.members) {
    if (typeof source[member] === 'string') out[member] = source[member];
  }
  return out;
}

/** Imports the private key as a non-extractable `CryptoKey` (validates the key material). */
export async function importSigningKey(jwk: PrivateSigningJwk): Promise<SigningKeyHandle> {
  const source = jwk as Record<string, unknown>;
  const material: JWK = { kty: jwk.kty };
  for (const member of ['crv', 'd', 'x', 'y', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
    const value = source[member];
    if (typeof value === 'string') material[member] = value;
  }
  const privateKey = await importJWK(material, jwk.alg, { extractable: false });
  if (privateKey instanceof Uint8Array || privateKey.type !== 'private') {
    throw new TypeError('not a private key');
  }
  const { modulusLength } = privateKey.algorithm as { modulusLength?: number };
  if (jwk.alg === 'RS256' && (modulusLength === undefined || modulusLength < 2048)) {
    throw new TypeError('RSA keys must have at least 2048 bits');
  }
  return { kid: jwk.kid, alg: jwk.alg, privateKey };
}
