import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { randomBytesPooled } from '../lib/random.ts';

/**
 * The successor refresh token, kept encrypted under a key derived from its predecessor's
 * secret (HKDF-SHA256 → AES-256-GCM), so that concurrent refreshes within the grace
 * window can be answered with the same successor while a reader of the store alone
 * cannot obtain it.
 */

const INFO = Buffer.from('tessera refresh successor v1');

function deriveKey(predecessorSecret: string, sessionId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', predecessorSecret, sessionId, INFO, 32));
}

/** Encrypts `successor` under a key derived from `predecessorSecret`; returns base64url. */
export function sealSuccessor(successor: string, predecessorSecret: string, sessionId: string): string {
  const iv = randomBytesPooled(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(predecessorSecret, sessionId), iv);
  cipher.setAAD(Buffer.from(sessionId));
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** Decrypts a sealed successor; `null` when the key is wrong or the box was altered. */
export function openSuccessor(sealed: string, predecessorSecret: string, sessionId: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 12 + 16 + 1) return null;
    const decipher = createDecipheriv(
      'aes-256-gcm',
      deriveKey(predecessorSecret, sessionId),
      raw.subarray(0, 12),
    );
    decipher.setAAD(Buffer.from(sessionId));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return null;
  }
}
