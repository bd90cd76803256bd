import type { SessionRecord } from '../sessions/types.ts';
import { isValidUserId, parseSessionId } from '../tokens/opaque-token.ts';
import type { CreateSessionCommand } from './session-store.ts';

/**
 * Input checks shared by every driver. Untrusted values (ids, hashes) that are malformed
 * make a method answer `null`/`false`/`invalid` without touching the store; values only
 * a programmer can get wrong (times, limits, the session being created) throw `TypeError`.
 */

/** Longest hash (or sealed successor) accepted; the service's are 43 and ~150 chars. */
const MAX_HASH_LENGTH = 512;
const MAX_SEALED_LENGTH = 4096;
const HASH = /^[\x21-\x7e]+$/;

/** The user id a session id belongs to, or `null` when the id is malformed. */
export function userIdOfSession(sessionId: unknown): string | null {
  return parseSessionId(sessionId)?.userId ?? null;
}

export function isValidHash(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_HASH_LENGTH && HASH.test(value);
}

export function assertTime(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer number of milliseconds`);
  }
}

export function assertCreateCommand(command: CreateSessionCommand): void {
  const { session } = command;
  if (!isValidUserId(session.userId) || userIdOfSession(session.id) !== session.userId) {
    throw new TypeError('session.id must be a session id of session.userId');
  }
  if (!isValidHash(command.secretHash)) throw new TypeError('secretHash must be a hash string');
  if (!['allow', 'reject', 'replace'].includes(command.concurrency)) {
    throw new TypeError('concurrency must be allow, reject or replace');
  }
  if (!Array.isArray(session.roles) || !session.roles.every((r) => typeof r === 'string')) {
    throw new TypeError('session.roles must be an array of strings');
  }
  if (typeof session.ip !== 'string' || typeof session.userAgent !== 'string') {
    throw new TypeError('session.ip and session.userAgent must be strings');
  }
  assertTime(command.maxSessions, 'maxSessions');
  assertTime(command.now, 'now');
  for (const name of [
    'createdAt',
    'lastSeenAt',
    'expiresAt',
    'absoluteExpiresAt',
    'accessExpiresAt',
  ] as const) {
    assertTime(session[name], `session.${name}`);
  }
}

/** `true` when the rotate command's untrusted parts are well-formed. Throws on bad times. */
export function checkRotateInput(command: {
  presentedHash: string;
  nextHash: string;
  sealedSuccessor: string;
  now: number;
  graceMs: number;
  idleMs: number;
  accessExpiresAt: number;
}): boolean {
  for (const name of ['now', 'graceMs', 'idleMs', 'accessExpiresAt'] as const)
    assertTime(command[name], name);
  if (!isValidHash(command.nextHash)) throw new TypeError('nextHash must be a hash string');
  if (typeof command.sealedSuccessor !== 'string' || command.sealedSuccessor.length > MAX_SEALED_LENGTH) {
    throw new TypeError('sealedSuccessor must be a string');
  }
  return isValidHash(command.presentedHash);
}

export function assertRateLimit(key: string, windowMs: number, limit: number, now: number): void {
  if (typeof key !== 'string') throw new TypeError('key must be a string');
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) throw new TypeError('windowMs must be >= 1');
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be >= 1');
  assertTime(now, 'now');
}

/** Copies a session record (never hand out the store's own objects). */
export function copySession(session: SessionRecord): SessionRecord {
  return {
    id: session.id,
    userId: session.userId,
    roles: [...session.roles],
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    ip: session.ip,
    userAgent: session.userAgent,
    accessExpiresAt: session.accessExpiresAt,
  };
}
