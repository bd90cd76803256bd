import { readCookie } from './lib/cookies.ts';

import type { HeaderSource } from './types.ts';

export type { HeaderSource };

/** Longest `Authorization` or `Cookie` header looked at; longer ones are treated as no credential. */
export const MAX_CREDENTIAL_HEADER_LENGTH = 16 * 1024;

export const ACCESS_COOKIE = 'tessera_access';
export const SESSION_COOKIE = 'tessera_session';

function readHeader(headers: HeaderSource, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  if (value === null || value === undefined) return undefined;
  return Array.isArray(value) ? value.join('; ') : value;
}

/**
 * The request's credential: `Authorization: Bearer <token>` (RFC 6750 §2.1), else the cookie
 * `cookieName` (`tessera_access` in jwt mode, `tessera_session` in opaque mode). `undefined`
 * when there is none, or the header is larger than {@link MAX_CREDENTIAL_HEADER_LENGTH}.
 *
 * @example
 * ```ts
 * const token = credentialFrom({ authorization: 'Bearer abc' }); // 'abc'
 * ```
 */
export function credentialFrom(
  headers: HeaderSource,
  cookieName: string = ACCESS_COOKIE,
): string | undefined {
  const authorization = readHeader(headers, 'authorization');
  if (authorization !== undefined && authorization.length <= MAX_CREDENTIAL_HEADER_LENGTH) {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  const cookie = readHeader(headers, 'cookie');
  if (cookie === undefined || cookie.length > MAX_CREDENTIAL_HEADER_LENGTH) return undefined;
  try {
    return readCookie(cookie, cookieName) || undefined;
  } catch {
    return undefined;
  }
}
