/**
 * The CSRF rule, one pure function shared by the auth service, its `/v1/authorize`
 * (forward-auth: applied to the forwarded method) and every guard adapter
 * (docs/security.md "CSRF"): a request authenticated by a **cookie** with an unsafe method
 * must carry an `Origin` from `allowedOrigins`, or the header `X-Tessera-CSRF: 1` (a
 * cross-site form cannot send it and a cross-site `fetch` with it needs a CORS preflight).
 * Bearer-authenticated requests are not subject to it: a browser never adds that header
 * on its own.
 */

/** Name of the anti-CSRF header (lower case, as Node hands headers over). */
export const CSRF_HEADER = 'x-tessera-csrf';

/** Methods that change nothing (RFC 9110 §9.2.1); every other method is unsafe. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export interface CsrfInput {
  /** The method the CSRF rule is about: the request's, or the forwarded one at a gateway. */
  method: string;
  /** Where the credential came from; only `cookie` is subject to the rule. */
  credential: 'cookie' | 'bearer' | 'none';
  /** The `Origin` header, if any. */
  origin: string | undefined;
  /** The `X-Tessera-CSRF` header, if any. */
  csrfHeader: string | undefined;
}

/** `true` when the method is unsafe (anything but GET, HEAD, OPTIONS, TRACE; case-insensitive). */
export function isUnsafeMethod(method: string): boolean {
  if (method === 'GET' || method === 'HEAD') return false; // what Node hands over, without a new string
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * `true` when the request passes the CSRF rule. `allowedOrigins` are serialised origins
 * (`scheme://host[:port]`), normally the issuer's plus `TESSERA_ALLOWED_ORIGINS`.
 *
 * @example
 * ```ts
 * passesCsrfRule({ method: 'POST', credential: 'cookie', origin: 'https://evil.example', csrfHeader: undefined },
 *   ['https://shop.example']); // false
 * ```
 */
export function passesCsrfRule(input: CsrfInput, allowedOrigins: readonly string[]): boolean {
  if (input.credential !== 'cookie' || !isUnsafeMethod(input.method)) return true;
  if (input.csrfHeader === '1') return true;
  const { origin } = input;
  return origin !== undefined && origin !== 'null' && allowedOrigins.includes(origin);
}
