import { EVENTS_SUPPORTED, POLL_METHOD, PUSH_METHOD } from './events.ts';

/** SSF stream status (SSF 1.0 §8.1.2): `paused` holds events, `disabled` drops them. */
export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/**
 * One event stream as the store keeps it: an SSF stream (push or poll) or a back-channel
 * logout registration (`bcl`), which is a push stream with a different token format.
 */
export interface StreamRecord {
  id: string;
  method: 'push' | 'poll' | 'bcl';
  /** `aud` of every token on the stream (the OIDC `client_id` for `bcl`). */
  aud: string;
  /** Where push and back-channel deliveries go. */
  endpointUrl?: string;
  /** Sent as `Authorization` with every push (SSF `delivery.authorization_header`). Never shown. */
  authorizationHeader?: string;
  eventsRequested: string[];
  description?: string;
  status: StreamStatus;
  statusReason?: string;
  /** Created at (ms): feed entries older than this are not for this stream. */
  createdAt: number;
  /** The stream (config and queue) is removed this long after the receiver's last activity. */
  inactivityTimeoutMs: number;
}

/** The stream as the SSF configuration endpoint shows it (SSF 1.0 §8.1.1). */
export function toStreamConfiguration(stream: StreamRecord, issuer: string): Record<string, unknown> {
  const endpoint =
    stream.method === 'poll' ? `${issuer}/v1/ssf/poll/${encodeURIComponent(stream.id)}` : stream.endpointUrl;
  return {
    stream_id: stream.id,
    iss: issuer,
    aud: stream.aud,
    events_supported: [...EVENTS_SUPPORTED],
    events_requested: stream.eventsRequested,
    events_delivered: stream.eventsRequested.filter((e) =>
      (EVENTS_SUPPORTED as readonly string[]).includes(e),
    ),
    delivery: { method: stream.method === 'poll' ? POLL_METHOD : PUSH_METHOD, endpoint_url: endpoint },
    ...(stream.description !== undefined ? { description: stream.description } : {}),
    inactivity_timeout: Math.floor(stream.inactivityTimeoutMs / 1000),
    min_verification_interval: 0,
  };
}

/** A back-channel logout registration as the admin API shows it. */
export function toBackchannelClient(stream: StreamRecord): Record<string, unknown> {
  return {
    id: stream.id,
    client_id: stream.aud,
    backchannel_logout_uri: stream.endpointUrl,
    created_at: new Date(stream.createdAt).toISOString(),
  };
}

/** JSON form kept in the store. */
export function encodeStream(stream: StreamRecord): string {
  return JSON.stringify(stream);
}

export function decodeStream(text: string): StreamRecord | null {
  try {
    const value = JSON.parse(text) as StreamRecord;
    return typeof value?.id === 'string' && typeof value.method === 'string' ? value : null;
  } catch {
    return null;
  }
}
