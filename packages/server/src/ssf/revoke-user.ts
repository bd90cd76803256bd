import type { AppContext } from '../http/context.ts';
import { recordRevocation } from '../http/recent-revocations.ts';
import type { UserRecord } from '../users/types.ts';

/**
 * Revokes every session of a user through the normal path (one `u` entry on the revocation
 * feed, so guards refuse at once and the transmitter sends the SETs), as the admin API does.
 */
export async function revokeEverySession(ctx: AppContext, user: UserRecord): Promise<number> {
  const { sessionIds, count } = await ctx.sessions.revokeUserSessions(user.id);
  recordRevocation(ctx, { kind: 'user', sessionIds, live: count });
  return count;
}

/** The receiver's action: `false` when no user has this username. */
export async function revokeEverySessionOf(ctx: AppContext, username: string): Promise<boolean> {
  const user = await ctx.users.findByUsername(username);
  if (!user) return false;
  await revokeEverySession(ctx, user);
  return true;
}
