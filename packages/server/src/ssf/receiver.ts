import { createHash } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeJwt,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { CREDENTIAL_CHANGE, SESSION_REVOKED, SET_TYPE } from './events.ts';
import type { SsfStore } from './ssf-store.ts';

/** Algorithms accepted on pushed-in SETs (never `none`, never HMAC with a public key). */
const ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'];
/** Clock skew accepted on `iat` (seconds). */
const TOLERANCE_SECONDS = 30;
const MAX_SET_LENGTH = 16 * 1024;

/** RFC 8935 §2.3 error codes. */
export type SetErrorCode =
  | 'invalid_request'
  | 'invalid_key'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'authentication_failed'
  | 'access_denied';

export type ReceiveOutcome =
  | { ok: true; revokedUsers: string[] }
  | { ok: false; err: SetErrorCode; description: string }
  /** The issuer's JWKS could not be fetched: not the SET's fault, the transmitter should retry. */
  | { ok: false; err: 'temporarily_unavailable'; description: string };

export interface TrustedIssuer {
  issuer: string;
  jwksUri: string;
}

export interface ReceiverOptions {
  trusted: TrustedIssuer[];
  /** Tessera's own issuer: the `aud` every accepted SET must carry. */
  audience: string;
  /** Oldest `iat` accepted (ms); also how long a `jti` is remembered. */
  maxAgeMs: number;
  store: SsfStore;
  /** Revokes every session of the user with this username; `false` when there is no such user. */
  revokeUser(username: string): Promise<boolean>;
}

export interface Receiver {
  receive(token: string): Promise<ReceiveOutcome>;
}

const fail = (err: SetErrorCode, description: string): ReceiveOutcome => ({ ok: false, err, description });

/**
 * The username a CAEP subject names (RFC 9493): `email` → the address, `opaque` → the id,
 * `iss_sub` → the sub; `complex` → its `user` member. `null` for anything else.
 */
export function usernameOfSubject(subject: unknown): string | null {
  if (typeof subject !== 'object' || subject === null) return null;
  const s = subject as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : null);
  switch (s.format) {
    case 'email':
      return text(s.email);
    case 'opaque':
      return text(s.id);
    case 'iss_sub':
      return text(s.sub);
    case 'complex':
      return usernameOfSubject(s.user);
    default:
      return null;
  }
}

function classify(error: unknown): ReceiveOutcome {
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return fail('invalid_audience', 'aud is not this receiver');
    if (error.claim === 'iss') return fail('invalid_issuer', 'iss is not trusted');
    return fail('invalid_request', `the ${error.claim} claim is not acceptable`);
  }
  if (error instanceof errors.JWTExpired) return fail('invalid_request', 'the SET has expired');
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return fail('invalid_key', "the signature does not verify with the issuer's keys");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return fail('invalid_key', 'algorithm not allowed');
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    error instanceof TypeError || // fetch failed
    (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') // not 200 OK
  ) {
    return {
      ok: false,
      err: 'temporarily_unavailable',
      description: "the issuer's keys could not be fetched; retry",
    };
  }
  return fail('invalid_request', 'not a valid SET');
}

/**
 * The SSF receiver: verifies a pushed SET (RFC 8417/8935) from a trusted issuer as strictly
 * as an access token, then acts on CAEP `session-revoked` and `credential-change` (every
 * session of the named user is revoked). Other event types are accepted and ignored.
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  const jwks = new Map<string, JWTVerifyGetKey>();
  for (const { issuer, jwksUri } of options.trusted) {
    jwks.set(issuer, createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 3000, cooldownDuration: 5000 }));
  }

  return {
    async receive(token) {
      if (token.length === 0 || token.length > MAX_SET_LENGTH)
        return fail('invalid_request', 'no SET in the body');
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        return fail('invalid_request', 'the body is not a JWT');
      }
      const keys = typeof unverified.iss === 'string' ? jwks.get(unverified.iss) : undefined;
      if (!keys) return fail('invalid_issuer', 'iss is not a trusted issuer');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: unverified.iss as string,
          audience: options.audience,
          algorithms: ALGORITHMS,
          typ: SET_TYPE,
          maxTokenAge: Math.floor(options.maxAgeMs / 1000),
          clockTolerance: TOLERANCE_SECONDS,
          requiredClaims: ['iat', 'jti'],
        }));
      } catch (error) {
        return classify(error);
      }
      const { jti, events } = payload as { jti?: unknown; events?: unknown };
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
        return fail('invalid_request', 'jti must be a string');
      }
      if (typeof events !== 'object' || events === null || Array.isArray(events)) {
        return fail('invalid_request', 'events must be an object');
      }
      const replayKey = createHash('sha256').update(`${payload.iss}\u0000${jti}`).digest('base64url');
      const ttl = options.maxAgeMs + 2 * TOLERANCE_SECONDS * 1000;
      if (!(await options.store.rememberOnce(replayKey, ttl))) {
        return fail('invalid_request', 'this jti was received before');
      }
      try {
        const users = new Set<string>();
        for (const [type, body] of Object.entries(events as Record<string, unknown>)) {
          if (type !== SESSION_REVOKED && type !== CREDENTIAL_CHANGE) continue; // ignored, as SSF says
          // SSF 1.0: top-level sub_id; earlier drafts put a `subject` in the event
          const legacy =
            typeof body === 'object' && body !== null ? (body as { subject?: unknown }).subject : undefined;
          const username = usernameOfSubject(payload.sub_id ?? legacy);
          if (username) users.add(username);
        }
        const revoked: string[] = [];
        for (const username of users) if (await options.revokeUser(username)) revoked.push(username);
        return { ok: true, revokedUsers: revoked };
      } catch (error) {
        await options.store.forget(replayKey).catch(() => {}); // let the transmitter's retry through
        throw error;
      }
    },
  };
}
