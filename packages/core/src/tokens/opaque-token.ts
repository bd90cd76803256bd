import { hash, timingSafeEqual } from 'node:crypto';
import { randomBytesPooled } from '../lib/random.ts';

/**
 * Identifiers and opaque tokens.
 *
 * - user id: `[A-Za-z0-9_-]{1,64}` (never contains `.`), it is the Redis hash tag `{u:<userId>}`.
 * - session id: `<userId>.<22 chars base64url>` (128 random bits) — the slot is derivable from it.
 * - refresh token: `tsr_<sessionId>.<43 chars base64url>` (256 random bits of secret).
 * - opaque session token: `tss_<sessionId>.<43 chars base64url>`.
 *
 * Only `hashSecret(secret)` (SHA-256, base64url) is ever stored.
 */

export const REFRESH_TOKEN_PREFIX = 'tsr_';
export const SESSION_TOKEN_PREFIX = 'tss_';
/** Longest token string any parser looks at; longer input is refused before any work. */
export const MAX_TOKEN_LENGTH = 4096;

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SESSION_RANDOM = /^[A-Za-z0-9_-]{22}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export type OpaqueTokenKind = 'refresh' | 'session';

export interface ParsedOpaqueToken {
  kind: OpaqueTokenKind;
  sessionId: string;
  userId: string;
  secret: string;
}

export function isValidUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID.test(value);
}

/** New random session id for a user. Throws `TypeError` for a malformed user id (a programming error). */
export function generateSessionId(userId: string): string {
  if (!isValidUserId(userId)) throw new TypeError('userId must match [A-Za-z0-9_-]{1,64}');
  return `${userId}.${randomBytesPooled(16).toString('base64url')}`;
}

/** Splits a session id into user id and random part, or `null` when malformed. */
export function parseSessionId(value: unknown): { userId: string; random: string } | null {
  if (typeof value !== 'string' || value.length > 100) return null;
  const dot = value.indexOf('.');
  if (dot < 1) return null;
  const userId = value.slice(0, dot);
  const random = value.slice(dot + 1);
  if (!USER_ID.test(userId) || !SESSION_RANDOM.test(random)) return null;
  return { userId, random };
}

/** A new 256-bit secret, base64url (43 chars). */
export function generateSecret(): string {
  return randomBytesPooled(32).toString('base64url');
}

export function formatOpaqueToken(kind: OpaqueTokenKind, sessionId: string, secret: string): string {
  return `${kind === 'refresh' ? REFRESH_TOKEN_PREFIX : SESSION_TOKEN_PREFIX}${sessionId}.${secret}`;
}

/** Parses a refresh or session token. Returns `null` for anything malformed; never throws. */
export function parseOpaqueToken(value: unknown, expected?: OpaqueTokenKind): ParsedOpaqueToken | null {
  if (typeof value !== 'string' || value.length > 200) return null;
  let kind: OpaqueTokenKind;
  if (value.startsWith(REFRESH_TOKEN_PREFIX)) kind = 'refresh';
  else if (value.startsWith(SESSION_TOKEN_PREFIX)) kind = 'session';
  else return null;
  if (expected !== undefined && kind !== expected) return null;
  const rest = value.slice(4);
  const lastDot = rest.lastIndexOf('.');
  if (lastDot < 0) return null;
  const secret = rest.slice(lastDot + 1);
  const sessionId = rest.slice(0, lastDot);
  const parsed = parseSessionId(sessionId);
  if (!parsed || !SECRET.test(secret)) return null;
  return { kind, sessionId, userId: parsed.userId, secret };
}

/** SHA-256 of a secret, base64url. This, never the secret, is what a store keeps. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'base64url');
}

/**
 * SHA-256 of any token, base64url; used as a cache key so no token sits in memory maps.
 * One-shot `crypto.hash` (about half the cost of `createHash` per call on a hot path).
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** Constant-time comparison of two hashes/strings. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
