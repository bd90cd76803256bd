import { type Clock, connectRedis, parseRevocationEntry, type RedisClient } from '@tessera/core';
import { Cluster } from 'ioredis';
import type { RevocationSet } from './revocation-set.ts';
import { compareStreamIds, readStreamInfo } from './stream-ids.ts';

type StreamEntry = [id: string, fields: string[]];

export interface RevocationFeedOptions {
  /** The guard's client; the feed reads on its own duplicate connection. */
  client: RedisClient;
  streamKey: string;
  set: RevocationSet;
  clock: Clock;
  /** `XREAD BLOCK` timeout; the feed is heard from at least this often while healthy. @default 1000 */
  blockMs?: number;
  /** Entries per `XRANGE` page when (re)loading. @default 10000 */
  pageSize?: number;
  /** How often to compare our position with what was trimmed, while connected. @default 5000 */
  checkIntervalMs?: number;
}

/**
 * Keeps a {@link RevocationSet} current from the revocation stream: loads it from the start,
 * then blocks on `XREAD` from the last id seen. After any error or disconnect it re-checks
 * `XINFO STREAM` before trusting itself again: if entries past its position were trimmed (or
 * the stream vanished) it reloads from the start and marks every token issued before that
 * moment as suspect (the guard then asks Redis about them until they expire).
 */
export class RevocationFeed {
  /** Last stream id applied (`0` before anything was read). */
  lastId = '0';
  /** When the last `XREAD` returned (ms, feed clock); 0 = never. */
  lastReadAt = 0;
  /** Tokens issued at or before this time (ms) may concern a revocation we lost; 0 = none. */
  suspectBefore = 0;
  /** How many times the feed had to reload because its position was trimmed away. */
  reloads = 0;
  private connected = false;
  private needsCheck = true;
  private trimBaseline = '0-0';
  private closed = false;
  private lastCheckAt = 0;
  private lastPruneAt = 0;
  private loop: Promise<void> | undefined;
  private readonly connection: RedisClient;
  private readonly blockMs: number;
  private readonly pageSize: number;
  private readonly checkIntervalMs: number;

  constructor(private readonly options: RevocationFeedOptions) {
    this.blockMs = options.blockMs ?? 1000;
    this.pageSize = options.pageSize ?? 10_000;
    this.checkIntervalMs = options.checkIntervalMs ?? 5000;
    const { client } = options;
    this.connection =
      client instanceof Cluster
        ? client.duplicate(undefined, {
            redisOptions: { ...client.options.redisOptions, autoResendUnfulfilledCommands: false },
          })
        : client.duplicate({ autoResendUnfulfilledCommands: false, lazyConnect: true });
    this.connection.on('error', () => {});
    this.connection.on('close', () => this.markDisconnected());
    this.connection.on('end', () => this.markDisconnected());
  }

  /** `true` while the feed is connected, checked and heard from within `maxLagMs`. */
  isCurrent(now: number, maxLagMs: number): boolean {
    return this.connected && !this.needsCheck && now - this.lastReadAt <= maxLagMs;
  }

  /** Loads the stream from its start, then keeps reading in the background. */
  async start(): Promise<void> {
    await connectRedis(this.connection);
    const info = readStreamInfo(await this.xinfo());
    this.trimBaseline = info?.maxDeletedId ?? '0-0';
    await this.loadFromStart();
    this.needsCheck = false;
    this.connected = true;
    this.lastReadAt = this.options.clock.now();
    this.lastCheckAt = this.lastReadAt;
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connection.disconnect();
    await this.loop;
  }

  private markDisconnected(): void {
    this.connected = false;
    this.needsCheck = true;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        if (this.needsCheck) await this.checkPosition();
        const reply = (await this.connection.xread(
          'COUNT',
          1000,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          this.options.streamKey,
          this.lastId,
        )) as Array<[string, StreamEntry[]]> | null;
        this.applyEntries(reply?.[0]?.[1] ?? []);
        const now = this.options.clock.now();
        if (!this.needsCheck) {
          this.connected = true;
          this.lastReadAt = now;
        }
        if (now - this.lastCheckAt >= this.checkIntervalMs) this.needsCheck = true;
        if (now - this.lastPruneAt >= 1000) {
          this.options.set.prune(now);
          this.lastPruneAt = now;
        }
      } catch {
        this.markDisconnected();
        if (!this.closed) await delay(100);
      }
    }
  }

  /** After a disconnect (or periodically): reload if entries past our position were trimmed. */
  private async checkPosition(): Promise<void> {
    const info = readStreamInfo(await this.xinfo());
    const lost =
      info === null
        ? this.lastId !== '0'
        : compareStreamIds(info.maxDeletedId, this.lastId) > 0 &&
          compareStreamIds(info.maxDeletedId, this.trimBaseline) > 0;
    if (lost) {
      this.suspectBefore = this.options.clock.now();
      this.trimBaseline = info?.maxDeletedId ?? '0-0';
      this.lastId = '0';
      this.reloads += 1;
      await this.loadFromStart();
    }
    this.lastCheckAt = this.options.clock.now();
    this.needsCheck = false;
  }

  private async xinfo(): Promise<unknown> {
    try {
      return await this.connection.xinfo('STREAM', this.options.streamKey);
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return null;
      throw error;
    }
  }

  private async loadFromStart(): Promise<void> {
    let start = '-';
    for (;;) {
      const page = (await this.connection.xrange(
        this.options.streamKey,
        start,
        '+',
        'COUNT',
        this.pageSize,
      )) as StreamEntry[];
      this.applyEntries(page);
      if (page.length < this.pageSize) return;
      start = `(${this.lastId}`;
    }
  }

  private applyEntries(entries: readonly StreamEntry[]): void {
    for (const [id, fields] of entries) {
      const entry = parseRevocationEntry(id, fields);
      if (entry !== null) this.options.set.apply(entry);
      if (compareStreamIds(id, this.lastId) > 0) this.lastId = id;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
