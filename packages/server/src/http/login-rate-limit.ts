import { createHash } from 'node:crypto';
import { RateLimitedError } from '@tessera/core/internal';
import type { AppContext } from './context.ts';

/**
 * Sliding-window login limits kept in the session store (so they hold across instances):
 * per client IP and per normalised username. Every attempt counts; a refused attempt is
 * answered 429 with `Retry-After` and the window slides on, so nobody is locked out for good.
 */
export async function enforceLoginRateLimit(ctx: AppContext, ip: string, username: string): Promise<void> {
  const { windowMs, perIp, perUsername } = ctx.config.loginRateLimit;
  const now = ctx.clock.now();
  const userKey = createHash('sha256').update(username).digest('base64url').slice(0, 22);
  const byIp = await ctx.store.hitRateLimit(`login:ip:${ip}`, windowMs, perIp, now);
  const byUser = await ctx.store.hitRateLimit(`login:user:${userKey}`, windowMs, perUsername, now);
  const refused = [byIp, byUser].filter((r) => !r.allowed);
  if (refused.length > 0) {
    const waitMs = Math.max(...refused.map((r) => r.retryAfterMs));
    throw new RateLimitedError('Too many login attempts; retry later', Math.max(1, Math.ceil(waitMs / 1000)));
  }
}
