import { SessionRevokedError, StoreUnavailableError } from '@tessera/core';
import type { GuardStats } from '../metrics.ts';
import type { GuardLogger, SessionLookup } from '../options.ts';
import type { Decision } from '../types.ts';
import type { VerifiedToken } from './verify-cached.ts';

export interface SessionCheckContext {
  store: SessionLookup;
  stats: GuardStats;
  failOpen: boolean;
  logger: GuardLogger;
  now: number;
}

/**
 * Asks Redis whether a verified token's session is still live (exists, same user, not
 * expired, not being revoked). Redis unreachable: 503 `store_unavailable` (fail closed), or,
 * with fail-open, a pass that is counted and logged.
 */
export async function checkSessionInStore(
  token: VerifiedToken,
  context: SessionCheckContext,
): Promise<Decision> {
  const { claims } = token;
  context.stats.storeChecks += 1;
  let session: Awaited<ReturnType<SessionLookup['getSession']>>;
  try {
    session = await context.store.getSession(claims.sid);
  } catch {
    if (!context.failOpen)
      return { ok: false, error: new StoreUnavailableError('the session store is unavailable') };
    context.stats.failOpen += 1;
    context.logger.warn(
      { event: 'tessera_guard_fail_open', userId: claims.sub, sessionId: claims.sid },
      'session store and revocation feed unavailable: request let through (TESSERA_FAIL_OPEN=true)',
    );
    return { ok: true, principal: token.allowed.principal, failOpen: true };
  }
  if (session === null || session.userId !== claims.sub || session.expiresAt <= context.now) {
    return { ok: false, error: new SessionRevokedError('the session has been revoked') };
  }
  return token.allowed;
}
