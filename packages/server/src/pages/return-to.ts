/** Where a successful sign-in goes when `return_to` is missing or refused. */
export const DEFAULT_RETURN_TO = '/account';

// Whitespace, control characters and backslashes: browsers "repair" these (`/\evil.example`
// is `//evil.example`), so a value holding any is refused before it is parsed.
function suspicious(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return /\s/.test(value);
}

/**
 * Where the login page may send the browser: a path on the issuer, or a URL on the issuer's
 * origin or one of `TESSERA_ALLOWED_ORIGINS`. Anything else (another origin, `//host`,
 * `javascript:`, a URL with credentials) gives `/account`: an open redirect is a defect.
 * A target on the issuer's origin is returned as a path, so the browser stays on the host it
 * used (its cookies are bound to it).
 */
export function safeReturnTo(raw: unknown, issuer: string, allowedOrigins: readonly string[]): string {
  if (typeof raw !== 'string' || raw === '' || raw.length > 2048 || suspicious(raw)) {
    return DEFAULT_RETURN_TO;
  }
  // A path on the issuer ("/orders") or an absolute http(s) URL; nothing relative to the page.
  if (!raw.startsWith('/') && !/^https?:\/\//i.test(raw)) return DEFAULT_RETURN_TO;
  const issuerOrigin = new URL(issuer).origin;
  let target: URL;
  try {
    target = new URL(raw, issuerOrigin);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return DEFAULT_RETURN_TO;
  if (target.username !== '' || target.password !== '') return DEFAULT_RETURN_TO;
  if (target.origin === issuerOrigin) {
    const path = `${target.pathname}${target.search}${target.hash}`;
    return path.startsWith('//') ? DEFAULT_RETURN_TO : path;
  }
  return allowedOrigins.includes(target.origin) ? target.href : DEFAULT_RETURN_TO;
}
