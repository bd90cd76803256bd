import type { QueuedEvent } from './events.ts';
import type { StreamRecord } from './stream-record.ts';

/** One event waiting in a stream's delivery queue. */
export interface QueueItem {
  /** The queue's own id for the item (a Redis stream id). */
  entryId: string;
  event: QueuedEvent;
  /** How many times it was handed out before (0 on the first attempt). */
  attempts: number;
}

/**
 * Where streams and their delivery queues live: Redis (shared by every auth instance, kept
 * across restarts) or memory (the embedded default). Unreachable Redis → `StoreUnavailableError`.
 */
export interface SsfStore {
  /** Creates or replaces a stream; (re)starts its inactivity timer. */
  saveStream(stream: StreamRecord): Promise<void>;
  getStream(id: string): Promise<StreamRecord | null>;
  listStreams(): Promise<StreamRecord[]>;
  /** Removes the stream and its queue. `false` when there was none. */
  deleteStream(id: string): Promise<boolean>;
  /** Restarts the inactivity timer of the stream and its queue. */
  touchStream(stream: StreamRecord): Promise<void>;
  enqueue(stream: StreamRecord, events: QueuedEvent[]): Promise<void>;
  /**
   * Push delivery: up to `count` items for `consumer`: its own unacknowledged items first,
   * then items another consumer left unacknowledged for `minIdleMs`, then new ones.
   */
  claim(stream: StreamRecord, consumer: string, count: number, minIdleMs: number): Promise<QueueItem[]>;
  /** Push delivery: the items are done (delivered, or refused for good). */
  ack(stream: StreamRecord, entryIds: string[]): Promise<void>;
  /** Poll delivery: the oldest `count` items, and whether more wait. */
  peek(stream: StreamRecord, count: number): Promise<{ items: QueueItem[]; more: boolean }>;
  /** Poll delivery: removes the items with these `jti`s; returns how many were removed. */
  ackJtis(stream: StreamRecord, jtis: string[]): Promise<number>;
  queueLength(stream: StreamRecord): Promise<number>;
  /** Receiver replay check: `true` the first time `key` is seen within `ttlMs`. */
  rememberOnce(key: string, ttlMs: number): Promise<boolean>;
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Longest a queue may grow (oldest items are dropped beyond it). */
export const MAX_QUEUE_LENGTH = 100_000;

interface MemoryQueue {
  items: Array<{ entryId: string; event: QueuedEvent; attempts: number; owner?: string; claimedAt: number }>;
  seq: number;
}

/** The in-process store of the embedded default (one instance; nothing survives a restart). */
export function createMemorySsfStore(now: () => number = Date.now): SsfStore {
  const streams = new Map<string, { stream: StreamRecord; expiresAt: number }>();
  const queues = new Map<string, MemoryQueue>();
  const seen = new Map<string, number>();

  const live = (id: string) => {
    const found = streams.get(id);
    if (found && found.expiresAt <= now()) {
      streams.delete(id);
      queues.delete(id);
      return undefined;
    }
    return found;
  };
  const queueOf = (id: string) => {
    let queue = queues.get(id);
    if (!queue) {
      queue = { items: [], seq: 0 };
      queues.set(id, queue);
    }
    return queue;
  };
  const touch = (stream: StreamRecord) => {
    const found = streams.get(stream.id);
    if (found) found.expiresAt = now() + stream.inactivityTimeoutMs;
  };

  return {
    async saveStream(stream) {
      streams.set(stream.id, {
        stream: structuredClone(stream),
        expiresAt: now() + stream.inactivityTimeoutMs,
      });
    },
    async getStream(id) {
      const found = live(id);
      return found ? structuredClone(found.stream) : null;
    },
    async listStreams() {
      return [...streams.keys()].flatMap((id) => {
        const found = live(id);
        return found ? [structuredClone(found.stream)] : [];
      });
    },
    async deleteStream(id) {
      queues.delete(id);
      return streams.delete(id);
    },
    async touchStream(stream) {
      touch(stream);
    },
    async enqueue(stream, events) {
      if (!live(stream.id)) return;
      const queue = queueOf(stream.id);
      for (const event of events) {
        queue.items.push({ entryId: `${now()}-${queue.seq++}`, event, attempts: 0, claimedAt: 0 });
      }
      if (queue.items.length > MAX_QUEUE_LENGTH) queue.items.splice(0, queue.items.length - MAX_QUEUE_LENGTH);
    },
    async claim(stream, consumer, count, minIdleMs) {
      const queue = queueOf(stream.id);
      const t = now();
      const picked = queue.items
        .filter((i) => !i.owner || i.owner === consumer || t - i.claimedAt >= minIdleMs)
        .slice(0, count);
      return picked.map((item) => {
        const out = { entryId: item.entryId, event: item.event, attempts: item.attempts };
        item.owner = consumer;
        item.claimedAt = t;
        item.attempts++;
        return out;
      });
    },
    async ack(stream, entryIds) {
      const queue = queueOf(stream.id);
      const done = new Set(entryIds);
      queue.items = queue.items.filter((i) => !done.has(i.entryId));
      touch(stream);
    },
    async peek(stream, count) {
      const items = queueOf(stream.id).items;
      return {
        items: items
          .slice(0, count)
          .map((i) => ({ entryId: i.entryId, event: i.event, attempts: i.attempts })),
        more: items.length > count,
      };
    },
    async ackJtis(stream, jtis) {
      const queue = queueOf(stream.id);
      const done = new Set(jtis);
      const before = queue.items.length;
      queue.items = queue.items.filter((i) => !done.has(i.event.jti));
      touch(stream);
      return before - queue.items.length;
    },
    async queueLength(stream) {
      return queueOf(stream.id).items.length;
    },
    async rememberOnce(key, ttlMs) {
      const t = now();
      for (const [k, until] of seen) {
        if (until > t) break; // one TTL for all: insertion order is expiry order
        seen.delete(k);
      }
      if (seen.has(key)) return false;
      seen.set(key, t + ttlMs);
      return true;
    },
    async forget(key) {
      seen.delete(key);
    },
    async close() {},
  };
}
