import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { isSigningAlg, type SigningAlg, type SigningKeyHandle } from '../keys/signing-key.ts';
import { MAX_TOKEN_LENGTH } from './opaque-token.ts';

/**
 * Access tokens (jwt mode): a JWS with header `{ alg, kid, typ: "at+jwt" }` and the claims below.
 * Any standard JOSE library verifies one against the JWKS alone.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068 (JWT profile for OAuth 2.0 access tokens)
 */

/** Clock skew accepted on `exp`, `nbf` and `iat`, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 10;

/** `typ` header of every access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Claims of an access token. Times are JWT NumericDates: seconds since the epoch. */
export interface AccessTokenClaims {
  iss: string;
  /** User id. */
  sub: string;
  aud: string;
  /** Issued at, seconds. */
  iat: number;
  /** Expires at, seconds. */
  exp: number;
  /** Unique token id. */
  jti: string;
  /** Session id. */
  sid: string;
  roles: string[];
}

export type AccessTokenVerification =
  /** `kid`: the key that signed it (a guard drops cached tokens of a revoked key by it). */
  { ok: true; claims: AccessTokenClaims; kid: string } | { ok: false; reason: 'expired' | 'invalid' };

export interface VerifyAccessTokenOptions {
  issuer: string;
  audience: string;
  /** Accepted algorithms (the configured one, plus any being migrated from). */
  algorithms: SigningAlg[];
  /** Current time in ms; for tests. Default: the system clock. */
  now?: number;
  /**
   * The configured access-token lifetime (ms, `TESSERA_ACCESS_TTL`): a token whose
   * `exp − iat` exceeds it plus {@link CLOCK_TOLERANCE_SECONDS} is refused, whatever key
   * signed it (contract §3 "Token lifetime"), so a token forged with a stolen key cannot
   * live longer than a genuine one. Unset: no bound (only for tools that inspect tokens).
   */
  maxLifetimeMs?: number;
}

const INVALID: AccessTokenVerification = { ok: false, reason: 'invalid' };
const EXPIRED: AccessTokenVerification = { ok: false, reason: 'expired' };

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((role) => typeof role === 'string');
}

function checkClaims(claims: AccessTokenClaims): void {
  const { iss, sub, aud, iat, exp, jti, sid, roles } = claims;
  const strings = [iss, sub, aud, jti, sid];
  if (
    !strings.every(isNonEmptyString) ||
    !isNumericDate(iat) ||
    !isNumericDate(exp) ||
    !isStringArray(roles)
  ) {
    throw new TypeError(
      'access token claims: iss, sub, aud, jti, sid (strings), iat, exp (seconds), roles (string[])',
    );
  }
}

/**
 * Signs an access token with the ring's current key.
 *
 * @example
 * ```ts
 * const key = await ring.signingKey();
 * const now = Math.floor(Date.now() / 1000);
 * const token = await signAccessToken(key, {
 *   iss: 'https://auth.example', sub: 'u1', aud: 'tessera', iat: now, exp: now + 600,
 *   jti: crypto.randomUUID(), sid: 'u1.AAAAAAAAAAAAAAAAAAAAAA', roles: ['user'],
 * });
 * ```
 * @throws TypeError when a claim is missing or of the wrong type (a programming error).
 */
export async function signAccessToken(key: SigningKeyHandle, claims: AccessTokenClaims): Promise<string> {
  checkClaims(claims);
  return new SignJWT({ sid: claims.sid, roles: [...claims.roles] })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .setJti(claims.jti)
    .sign(key.privateKey);
}

/** The typed claims, or `null` when a required claim is missing or of the wrong type. */
function readClaims(payload: JWTPayload, audience: string): AccessTokenClaims | null {
  const { iss, sub, iat, exp, jti, sid, roles } = payload;
  if (!isNonEmptyString(iss) || !isNonEmptyString(sub) || !isNonEmptyString(jti) || !isNonEmptyString(sid)) {
    return null;
  }
  if (!isNumericDate(iat) || !isNumericDate(exp) || !isStringArray(roles)) return null;
  return { iss, sub, aud: audience, iat, exp, jti, sid, roles: [...roles] };
}

/** `exp − iat` above the configured lifetime (rounded up to whole seconds) plus the tolerance. */
function tooLongLived(claims: AccessTokenClaims, maxLifetimeMs: number): boolean {
  return claims.exp - claims.iat > Math.ceil(maxLifetimeMs / 1000) + CLOCK_TOLERANCE_SECONDS;
}

/**
 * `true` when the JOSE header and the payload are exactly `JSON.stringify` of what they parse
 * to, as every token Tessera signs is: no duplicate member (a parser differential: RFC 7515 §4
 * and RFC 7519 §4 allow either "reject" or "last wins"; we reject), no whitespace or escapes.
 */
function isCanonicalJws(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  for (const part of parts.slice(0, 2) as [string, string]) {
    try {
      const text = Buffer.from(part, 'base64url').toString('utf8');
      if (JSON.stringify(JSON.parse(text)) !== text) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Verifies an access token: signature by a key from `keys` (its `kid`), an algorithm from
 * `algorithms` (never `none` or HMAC), `typ: at+jwt`, `iss`, `aud`, `exp`/`nbf`/`iat` with
 * {@link CLOCK_TOLERANCE_SECONDS}, and the presence and types of `sub`, `sid`, `jti`, `roles`,
 * `exp`, `iat`, and with `maxLifetimeMs` that `exp − iat` is no longer than a genuine token's.
 * `jku`, `x5u` and embedded `jwk` headers are ignored: keys only come from `keys`.
 * A header or payload that is not the canonical JSON Tessera signs (e.g. a duplicate member) is
 * refused.
 *
 * Never throws for any token input (wrong type, too long, malformed): the answer is
 * `{ ok: false, reason: 'invalid' }`, or `'expired'` for an authentic token past `exp`.
 *
 * @example
 * ```ts
 * const result = await verifyAccessToken(token, ring.verificationKeys(), {
 *   issuer: 'https://auth.example', audience: 'tessera', algorithms: ['EdDSA'],
 * });
 * if (result.ok) console.log(result.claims.sub);
 * ```
 * @throws TypeError only for bad options (empty or unsupported `algorithms`): a setup error.
 * @see https://www.rfc-editor.org/rfc/rfc8725 (JWT best current practices)
 */
export async function verifyAccessToken(
  token: string,
  keys: JWTVerifyGetKey,
  options: VerifyAccessTokenOptions,
): Promise<AccessTokenVerification> {
  const { issuer, audience, algorithms, now, maxLifetimeMs } = options;
  if (algorithms.length === 0 || !algorithms.every(isSigningAlg)) {
    throw new TypeError('algorithms must be a non-empty list of EdDSA, ES256, RS256');
  }
  if (maxLifetimeMs !== undefined && !(Number.isFinite(maxLifetimeMs) && maxLifetimeMs > 0)) {
    throw new TypeError('maxLifetimeMs must be a positive number of milliseconds');
  }
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return INVALID;
  if (!isCanonicalJws(token)) return INVALID;
  const currentMs = now ?? Date.now();
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms: [...algorithms],
      typ: ACCESS_TOKEN_TYPE,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(currentMs),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'sid', 'roles'],
    });
    const claims = readClaims(payload, audience);
    if (claims === null) return INVALID;
    if (claims.iat > Math.floor(currentMs / 1000) + CLOCK_TOLERANCE_SECONDS) return INVALID;
    if (maxLifetimeMs !== undefined && tooLongLived(claims, maxLifetimeMs)) return INVALID;
    if (typeof protectedHeader.kid !== 'string') return INVALID;
    return { ok: true, claims, kid: protectedHeader.kid };
  } catch (error) {
    return error instanceof errors.JWTExpired ? EXPIRED : INVALID;
  }
}
