import { createHash } from 'node:crypto';
import { RateLimitedError, type RateLimitResult } from '@tessera/core/internal';
import type { AppContext } from './context.ts';

const tag = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/** One login attempt, provisionally counted as a failure until `succeeded()` takes it back. */
export interface LoginAttempt {
  /** The password was right: the attempt no longer counts against anyone. */
  succeeded(): Promise<void>;
}

function refuse(retryAfterMs: number): never {
  throw new RateLimitedError(
    'Too many failed login attempts; retry later',
    Math.max(1, Math.ceil(retryAfterMs / 1000)),
  );
}

/**
 * Login throttling that counts **failed** attempts only, in sliding windows kept in the session
 * store (so they hold across instances); docs/security.md "Login throttling":
 * - per (username, client address): `perUsername` failures, then that pair waits;
 * - per client address: `perIp` failures, whatever the usernames, then that address waits;
 * - per username (soft): past `perUsername` failures from all addresses together, an address
 *   that has failed lately waits for that username; an address without failures never does,
 *   so nobody can lock a user out of a correct login from her own machine.
 * Each attempt reserves its slot atomically *before* the password is checked (so parallel
 * guesses cannot all slip past a check), and a correct password takes the reservation back.
 * A refused attempt costs no password hash and counts as nothing.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html
 */
export async function beginLoginAttempt(
  ctx: AppContext,
  ip: string,
  username: string,
): Promise<LoginAttempt> {
  const { windowMs, perIp, perUsername } = ctx.config.loginRateLimit;
  const { store } = ctx;
  const now = ctx.clock.now();
  const user = tag(username);
  const address = tag(ip);
  const windows = [
    { key: `login:fail:ui:${user}:${address}`, limit: perUsername },
    { key: `login:fail:ip:${address}`, limit: perIp },
    // The soft window never refuses by itself: its limit only caps what it stores.
    { key: `login:fail:u:${user}`, limit: perUsername + 1 },
  ] as const;
  // One round trip for the three windows (and one to take them back) where the store can.
  const results: RateLimitResult[] = store.hitRateLimits
    ? await store.hitRateLimits(windows, windowMs, now)
    : await Promise.all(windows.map((w) => store.hitRateLimit(w.key, windowMs, w.limit, now)));
  const hits: Array<{ key: string; hitId: string }> = [];
  results.forEach((r, i) => {
    if (r.hitId !== undefined) hits.push({ key: windows[i]?.key ?? '', hitId: r.hitId });
  });
  const cancel = async () => {
    if (hits.length === 0) return;
    if (store.cancelRateLimitHits) await store.cancelRateLimitHits(hits);
    else await Promise.all(hits.map((h) => store.cancelRateLimitHit(h.key, h.hitId)));
  };
  const [pair, byIp, byUser] = results as [RateLimitResult, RateLimitResult, RateLimitResult];
  const hard = [pair, byIp].filter((r) => !r.allowed);
  // The username is under attack (soft limit passed) and this address has failed lately
  // (counts include this attempt): wait. A clean address goes on to the password check.
  const soft = byUser.count > perUsername && byIp.count > 1;
  if (hard.length > 0 || soft) {
    await cancel();
    refuse(hard.length > 0 ? Math.max(...hard.map((r) => r.retryAfterMs)) : windowMs);
  }
  return { succeeded: cancel };
}
