import type { KeyRing, RevocationEntry } from '@tessera/core';
import { SignJWT } from 'jose';
import {
  CREDENTIAL_CHANGE,
  credentialChangeEvent,
  eventsForRevocation,
  LOGOUT_TOKEN_TTL_SECONDS,
  LOGOUT_TOKEN_TYPE,
  type QueuedEvent,
  SESSION_REVOKED,
  streamWants,
} from './events.ts';
import type { RevocationSource } from './revocation-source.ts';
import type { SsfMetrics } from './ssf-metrics.ts';
import type { QueueItem, SsfStore } from './ssf-store.ts';
import type { StreamRecord } from './stream-record.ts';

export interface TransmitterOptions {
  issuer: string;
  keys: KeyRing;
  store: SsfStore;
  source: RevocationSource;
  metrics: SsfMetrics;
  /** This instance's consumer name in the delivery consumer groups. */
  consumer: string;
  /** First retry after this (ms); doubles per failure up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Items another instance left unacknowledged this long are taken over (ms). */
  claimIdleMs: number;
  /** Timeout of one push request (ms). */
  pushTimeoutMs: number;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface Transmitter {
  /** Starts fan-out from the revocation feed and the push loop. */
  start(): void;
  /** Signs and queues events for one stream, and wakes the deliverers. */
  publish(stream: StreamRecord, events: QueuedEvent[]): Promise<void>;
  /** CAEP `credential-change` for every stream that asked for it. */
  publishCredentialChange(userId: string, changeType: 'update' | 'delete'): Promise<void>;
  /** The compact JWS of a queued event (signed now, with the current key). */
  sign(stream: StreamRecord, event: QueuedEvent): Promise<string>;
  /** Resolves when the stream may have new events, or after `ms` (at once while closing). */
  wait(streamId: string, ms: number): Promise<void>;
  /** `true` once the service is shutting down: long polls answer now. */
  readonly closing: boolean;
  /** Ends every wait (the service is shutting down and must not be held by long polls). */
  stopWaiting(): void;
  /** The stream list changed on this instance. */
  invalidate(): void;
  close(): Promise<void>;
}

type Outcome = 'delivered' | 'refused' | 'retry';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const entryMs = (entry: RevocationEntry) => Number(entry.id.split('-')[0]);

/** How often the push loop looks for work when nothing woke it (new events on another instance). */
const TICK_MS = 200;
/** How long the stream list is cached. */
const STREAMS_TTL_MS = 1000;
/** Running instances restart every stream's inactivity timer this often. */
const KEEPALIVE_MS = 60 * 60_000;
const BATCH = 20;

/**
 * The delivery engine: revocation feed → per-stream queue → push (RFC 8935) or poll
 * (RFC 8936) → acknowledged. At-least-once: an item leaves its queue only after the receiver
 * accepted (or refused for good) it; a receiver that is down gets retries with capped
 * exponential backoff, and what a stopped instance held is taken over by another.
 */
export function createTransmitter(options: TransmitterOptions): Transmitter {
  const { store, metrics } = options;
  let stopped = false;
  let closing = false;
  let cached: { at: number; streams: StreamRecord[] } | null = null;
  let keptAliveAt = Date.now();
  const busy = new Set<string>();
  const backoff = new Map<string, { failures: number; nextAt: number }>();
  const waiters = new Map<string, Set<() => void>>();
  let wakeLoop: (() => void) | null = null;
  let loop: Promise<void> | undefined;

  function wake(streamId: string) {
    for (const resolve of waiters.get(streamId) ?? []) resolve();
    waiters.delete(streamId);
    wakeLoop?.();
  }

  async function streams(): Promise<StreamRecord[]> {
    if (cached && Date.now() - cached.at < STREAMS_TTL_MS) return cached.streams;
    const list = await store.listStreams();
    cached = { at: Date.now(), streams: list };
    if (Date.now() - keptAliveAt > KEEPALIVE_MS) {
      keptAliveAt = Date.now();
      for (const stream of list) await store.touchStream(stream).catch(() => {});
    }
    return list;
  }

  async function publish(stream: StreamRecord, events: QueuedEvent[]) {
    if (events.length === 0) return;
    await store.enqueue(stream, events);
    metrics.queued.inc({ stream: stream.id }, events.length);
    wake(stream.id);
  }

  async function fanOut(entries: RevocationEntry[]) {
    cached = null; // a stream created on another instance a moment ago must get these
    for (const stream of await streams()) {
      if (!streamWants(stream, SESSION_REVOKED)) continue;
      const events = entries
        .filter((entry) => entryMs(entry) >= stream.createdAt)
        .flatMap((entry) => eventsForRevocation(stream, entry));
      await publish(stream, events);
    }
  }

  async function sign(stream: StreamRecord, event: QueuedEvent): Promise<string> {
    const key = await options.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT(event.claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: event.typ })
      .setIssuer(options.issuer)
      .setAudience(stream.aud)
      .setIssuedAt(now)
      .setJti(event.jti);
    if (event.typ === LOGOUT_TOKEN_TYPE) jwt.setExpirationTime(now + LOGOUT_TOKEN_TTL_SECONDS);
    return jwt.sign(key.privateKey);
  }

  async function push(stream: StreamRecord, item: QueueItem): Promise<Outcome> {
    if (!stream.endpointUrl) return 'refused';
    const token = await sign(stream, item.event);
    const bcl = stream.method === 'bcl';
    let status: number;
    let detail = '';
    try {
      const response = await fetch(stream.endpointUrl, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': bcl ? 'application/x-www-form-urlencoded' : 'application/secevent+jwt',
          accept: 'application/json',
          ...(stream.authorizationHeader ? { authorization: stream.authorizationHeader } : {}),
        },
        body: bcl ? new URLSearchParams({ logout_token: token }).toString() : token,
        signal: AbortSignal.timeout(options.pushTimeoutMs),
      });
      status = response.status;
      const text = (await response.text().catch(() => '')).slice(0, 300);
      if (status >= 400) {
        try {
          detail = String((JSON.parse(text) as { err?: unknown }).err ?? '');
        } catch {}
      }
    } catch {
      return 'retry'; // unreachable, refused connection, timeout
    }
    if (status >= 200 && status < 300) return 'delivered';
    if (status >= 400 && status < 500 && ![408, 425, 429].includes(status)) {
      options.warn(
        { stream: stream.id, jti: item.event.jti, status, err: detail || undefined },
        'receiver refused an event; it is dropped',
      );
      return 'refused';
    }
    return 'retry';
  }

  function scheduleRetry(stream: StreamRecord) {
    const state = backoff.get(stream.id) ?? { failures: 0, nextAt: 0 };
    state.failures++;
    const delay = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** (state.failures - 1));
    state.nextAt = Date.now() + delay * (0.8 + Math.random() * 0.4);
    backoff.set(stream.id, state);
  }

  /** Delivers one batch; `true` when there may be more right away. */
  async function deliver(stream: StreamRecord): Promise<boolean> {
    const items = await store.claim(stream, options.consumer, BATCH, options.claimIdleMs);
    const done: string[] = [];
    let failed = false;
    for (const item of items) {
      const outcome = await push(stream, item);
      if (outcome === 'retry') {
        metrics.retried.inc({ stream: stream.id });
        failed = true;
        break;
      }
      done.push(item.entryId);
      (outcome === 'delivered' ? metrics.delivered : metrics.failed).inc({ stream: stream.id });
    }
    await store.ack(stream, done);
    if (failed) {
      scheduleRetry(stream);
      return false;
    }
    if (items.length > 0) backoff.delete(stream.id);
    return items.length === BATCH;
  }

  async function pushLoop() {
    while (!stopped) {
      try {
        const now = Date.now();
        for (const stream of await streams()) {
          if (stream.method === 'poll' || stream.status !== 'enabled' || busy.has(stream.id)) continue;
          if ((backoff.get(stream.id)?.nextAt ?? 0) > now) continue;
          busy.add(stream.id);
          void (async () => {
            try {
              while (!stopped && (await deliver(stream))) {}
            } catch {
              scheduleRetry(stream); // store unavailable: try again later
            } finally {
              busy.delete(stream.id);
            }
          })();
        }
      } catch {
        // store unavailable: the next tick tries again
      }
      await new Promise<void>((resolve) => {
        wakeLoop = resolve;
        setTimeout(resolve, TICK_MS).unref();
      });
      wakeLoop = null;
    }
  }

  return {
    start() {
      options.source.start(fanOut);
      loop = pushLoop();
    },
    publish,
    async publishCredentialChange(userId, changeType) {
      const eventId = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
      for (const stream of await streams()) {
        if (!streamWants(stream, CREDENTIAL_CHANGE)) continue;
        await publish(stream, [credentialChangeEvent(stream, userId, changeType, eventId, Date.now())]);
      }
    },
    sign,
    get closing() {
      return closing;
    },
    stopWaiting() {
      closing = true;
      for (const id of [...waiters.keys()]) wake(id);
    },
    async wait(streamId, ms) {
      if (closing) return;
      await new Promise<void>((resolve) => {
        const set = waiters.get(streamId) ?? new Set();
        waiters.set(streamId, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        timer.unref();
        set.add(done);
      });
    },
    invalidate() {
      cached = null;
      wakeLoop?.();
    },
    async close() {
      stopped = true;
      wakeLoop?.();
      await options.source.close();
      await loop;
      for (let i = 0; busy.size > 0 && i < 50; i++) await sleep(100);
    },
  };
}
