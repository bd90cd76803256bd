import { type Clock, parseRevocationEntry, type RedisClient } from '@tessera/core';
import { Cluster } from 'ioredis';
import { waitUntilReady } from '../lib/redis-ready.ts';
import type { RevocationSet } from './revocation-set.ts';
import { compareStreamIds, readEntriesAdded } from './stream-ids.ts';

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
  /** How often to re-check our position against the stream, while connected. @default 5000 */
  checkIntervalMs?: number;
  /** Keep every fact at least this long after it is read (ms), whatever its `until`. @default 0 */
  minRetentionMs?: number;
  /** Called when the feed reloads because it may have lost entries (drop anything derived). */
  onReload?: () => void;
  /** How long `start()` waits for its connection (ms). @default 5000 */
  connectTimeoutMs?: number;
}

/**
 * Keeps a {@link RevocationSet} current from the revocation stream: loads it from the start,
 * then blocks on `XREAD` from the last id seen.
 *
 * Lost entries are detected by counting: `accounted` is how many entries were ever appended
 * up to our position. `XINFO STREAM`'s `entries-added` minus the entries after our position
 * must equal it; if not, entries after our position were trimmed or deleted before we read
 * them (or the stream vanished). The same happens when the server's `run_id` changed
 * (restart or failover: writes may be lost). Either way the feed reloads from the start and
 * marks every token issued before that moment as suspect: the guard asks Redis about those
 * until they expire. The check runs after every error or disconnect, before the feed is
 * trusted again, and every `checkIntervalMs`.
 */
export class RevocationFeed {
  /** Last stream id applied (`0` before anything was read). */
  lastId = '0';
  /** When the last `XREAD` returned (ms, feed clock); 0 = never. */
  lastReadAt = 0;
  /** Tokens issued at or before this time (ms) may concern a revocation we lost; 0 = none. */
  suspectBefore = 0;
  /** How many times the feed reloaded because it may have lost entries. */
  reloads = 0;
  private accounted: number | undefined;
  private runId: string | undefined;
  private connected = false;
  /** A disconnect or error happened: the feed is not trusted until its position is checked. */
  private needsCheck = true;
  /** A routine check is due (the feed stays trusted while it runs). */
  private checkDue = false;
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
    await waitUntilReady(this.connection, this.options.connectTimeoutMs);
    this.runId = await this.readRunId();
    await this.reload();
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
        if (this.needsCheck || this.checkDue) await this.checkPosition();
        const reply = (await this.connection.xread(
          'COUNT',
          1000,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          this.options.streamKey,
          this.lastId,
        )) as Array<[string, StreamEntry[]]> | null;
        const entries = reply?.[0]?.[1] ?? [];
        this.applyEntries(entries);
        if (this.accounted !== undefined) this.accounted += entries.length;
        const now = this.options.clock.now();
        if (!this.needsCheck) {
          this.connected = true;
          this.lastReadAt = now;
        }
        if (now - this.lastCheckAt >= this.checkIntervalMs) this.checkDue = true;
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

  private async checkPosition(): Promise<void> {
    const routine = !this.needsCheck;
    const runId = await this.readRunId();
    const restarted = runId !== this.runId;
    this.runId = runId;
    if (restarted || !(await this.catchUp(routine))) {
      this.needsCheck = true;
      this.suspectBefore = this.options.clock.now();
      this.reloads += 1;
      this.options.onReload?.();
      await this.reload();
    }
    // Caught up atomically with the count: current from here, without waiting for an XREAD.
    this.lastCheckAt = this.options.clock.now();
    this.lastReadAt = this.lastCheckAt;
    this.connected = true;
    this.needsCheck = false;
    this.checkDue = false;
  }

  /** Reads every entry from the stream's start; then counts where that leaves us. */
  private async reload(): Promise<void> {
    this.lastId = '0';
    this.accounted = undefined;
    for (;;) {
      const start = this.lastId === '0' ? '-' : `(${this.lastId}`;
      const page = (await this.connection.xrange(
        this.options.streamKey,
        start,
        '+',
        'COUNT',
        this.pageSize,
      )) as StreamEntry[];
      this.applyEntries(page);
      if (page.length < this.pageSize) break;
    }
    await this.catchUp();
  }

  /**
   * Atomically reads `entries-added` and the entries after our position, applies those, and
   * returns `false` when the count shows entries we never saw were removed.
   *
   * `routine` (connected and current since the last check): a stream that vanished then
   * expired by its TTL, which every append resets to the retention (≥ the longest access
   * token): any entry we could have missed was appended at least that long ago, so no token
   * it concerns is still valid. After a disconnect a vanished stream counts as lost.
   */
  private async catchUp(routine = false): Promise<boolean> {
    for (;;) {
      const start = this.lastId === '0' ? '-' : `(${this.lastId}`;
      const replies = await this.connection
        .multi()
        .xinfo('STREAM', this.options.streamKey)
        .xrange(this.options.streamKey, start, '+', 'COUNT', this.pageSize)
        .exec();
      if (replies === null) throw new Error('transaction aborted');
      const [[infoError, info] = [null, null], [rangeError, range] = [null, []]] = replies;
      if (rangeError) throw rangeError;
      if (infoError && !/no such key/i.test(infoError.message)) throw infoError;
      const page = (range ?? []) as StreamEntry[];
      const added = infoError ? 0 : readEntriesAdded(info);
      if (page.length === this.pageSize) {
        this.applyEntries(page);
        if (this.accounted !== undefined) this.accounted += page.length;
        continue;
      }
      const vanishedQuietly = routine && infoError !== null && page.length === 0;
      const consistent =
        this.accounted === undefined || vanishedQuietly || added - page.length === this.accounted;
      if (!consistent) return false;
      this.applyEntries(page);
      this.accounted = added;
      return true;
    }
  }

  /** The server's `run_id`; `undefined` on a cluster (the stream's node is not pinned there). */
  private async readRunId(): Promise<string | undefined> {
    if (this.connection instanceof Cluster) return undefined;
    const info = await this.connection.info('server');
    return /run_id:(\w+)/.exec(info)?.[1];
  }

  private applyEntries(entries: readonly StreamEntry[]): void {
    if (entries.length === 0) return;
    const minKeepUntil = this.options.clock.now() + (this.options.minRetentionMs ?? 0);
    for (const [id, fields] of entries) {
      const entry = parseRevocationEntry(id, fields);
      if (entry !== null) this.options.set.apply(entry, minKeepUntil);
      if (compareStreamIds(id, this.lastId) > 0) this.lastId = id;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
