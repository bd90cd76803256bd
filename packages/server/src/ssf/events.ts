import type { RevocationEntry } from '@tessera/core';
import type { StreamRecord } from './stream-record.ts';

/**
 * Event types, delivery methods and the unsigned claims of every token Tessera sends.
 * The claims are queued; they are signed when delivered (so `iat` is the send time and a
 * retried logout token is not expired), with a `jti` that is the same on every retry.
 *
 * @see https://openid.net/specs/openid-caep-1_0.html
 * @see https://openid.net/specs/openid-sharedsignals-framework-1_0.html
 * @see https://www.rfc-editor.org/rfc/rfc8417 (Security Event Token)
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html
 */
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
const BACKCHANNEL_LOGOUT = 'http://schemas.openid.net/event/backchannel-logout';

/** The CAEP events a stream may request. Verification events are always delivered. */
export const EVENTS_SUPPORTED = [SESSION_REVOKED, CREDENTIAL_CHANGE] as const;

export const PUSH_METHOD = 'urn:ietf:rfc:8935';
export const POLL_METHOD = 'urn:ietf:rfc:8936';

/** `typ` of a SET (RFC 8417 §2.3) and of an OIDC logout token. */
export const SET_TYPE = 'secevent+jwt';
export const LOGOUT_TOKEN_TYPE = 'logout+jwt';

/** Lifetime of a back-channel logout token (the spec recommends at most two minutes). */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

/** One queued event: everything but `iss`, `aud` and `iat`, which are added when it is signed. */
export interface QueuedEvent {
  jti: string;
  /** `secevent+jwt` (SSF) or `logout+jwt` (back-channel logout). */
  typ: typeof SET_TYPE | typeof LOGOUT_TOKEN_TYPE;
  claims: Record<string, unknown>;
}

type Subject = Record<string, unknown>;

const opaque = (id: string): Subject => ({ format: 'opaque', id });

/** RFC 9493 complex subject: the user and (when known) the session, both opaque ids. */
function userSession(userId: string, sessionId?: string): Subject {
  return {
    format: 'complex',
    user: opaque(userId),
    ...(sessionId ? { session: opaque(sessionId) } : {}),
  };
}

/** Seconds since the epoch from a stream id (`<ms>-<seq>`). */
function entrySeconds(entryId: string): number {
  return Math.floor(Number(entryId.split('-')[0]) / 1000);
}

function sessionsOf(entry: RevocationEntry): string[] {
  if (entry.kind === 'session') return [entry.sessionId];
  if (entry.kind === 'user') return entry.sessionIds;
  return [];
}

/**
 * The events one revocation-feed entry becomes for one stream: one per revoked session
 * (CAEP `session-revoked`, or a back-channel `logout_token` with `sub` and `sid`). The `jti`
 * is `<stream id>:<feed entry id>:<n>`, so a retried or re-fanned-out event keeps it.
 * Other entry kinds (e.g. a revoked signing key) produce nothing.
 */
export function eventsForRevocation(stream: StreamRecord, entry: RevocationEntry): QueuedEvent[] {
  const userId = (entry as { userId?: string }).userId;
  if (!userId) return [];
  const at = entrySeconds(entry.id);
  return sessionsOf(entry).map((sessionId, n) => {
    const jti = `${stream.id}:${entry.id}:${n}`;
    if (stream.method === 'bcl') {
      return {
        jti,
        typ: LOGOUT_TOKEN_TYPE,
        claims: { sub: userId, sid: sessionId, events: { [BACKCHANNEL_LOGOUT]: {} } },
      };
    }
    return {
      jti,
      typ: SET_TYPE,
      claims: {
        txn: entry.id,
        sub_id: userSession(userId, sessionId),
        events: { [SESSION_REVOKED]: { event_timestamp: at } },
      },
    };
  });
}

/** CAEP `credential-change` for a user's password (`change_type`: update or delete). */
export function credentialChangeEvent(
  stream: StreamRecord,
  userId: string,
  changeType: 'update' | 'delete',
  eventId: string,
  nowMs: number,
): QueuedEvent {
  return {
    jti: `${stream.id}:cc:${eventId}`,
    typ: SET_TYPE,
    claims: {
      sub_id: userSession(userId),
      events: {
        [CREDENTIAL_CHANGE]: {
          credential_type: 'password',
          change_type: changeType,
          event_timestamp: Math.floor(nowMs / 1000),
        },
      },
    },
  };
}

/** SSF §8.1.4 verification event; the subject is the stream itself. */
export function verificationEvent(stream: StreamRecord, eventId: string, state?: string): QueuedEvent {
  return {
    jti: `${stream.id}:verify:${eventId}`,
    typ: SET_TYPE,
    claims: {
      sub_id: opaque(stream.id),
      events: { [VERIFICATION]: state === undefined ? {} : { state } },
    },
  };
}

/** Does the stream want this event? Verification always; back-channel logout every revocation. */
export function streamWants(stream: StreamRecord, eventType: string): boolean {
  if (stream.status !== 'enabled' && stream.status !== 'paused') return false;
  if (eventType === VERIFICATION) return true;
  if (stream.method === 'bcl') return eventType === SESSION_REVOKED;
  return stream.eventsRequested.includes(eventType);
}
