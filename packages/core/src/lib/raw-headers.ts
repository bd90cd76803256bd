/**
 * `true` when Node's `rawHeaders` (name, value, name, value, …) hold more than one
 * `Authorization` header. `req.headers` keeps only the first of a pair, so a genuine token
 * first and a forged one second would otherwise pass as the first alone. A scan without
 * allocation, unlike `req.headersDistinct` (an object of every header, built per request).
 */
export function hasTwoAuthorizations(rawHeaders: readonly string[]): boolean {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization' && ++seen > 1)
      return true;
  }
  return false;
}
