import type { Clock } from '../../lib/clock.ts';
import type { RevocationEntry } from '../../sessions/types.ts';
import { compareStreamIds } from './stream-id.ts';

/** One stream entry as a source reads it: its id, and the entry (`null` when malformed). */
export interface SourceEntry {
  id: string;
  entry: RevocationEntry | null;
}

/**
 * What a driver provides for following its revocation log (Redis: a stream on a dedicated
 * connection; memory: the in-process log). The follower adds the protocol: paging, loss
 * detection, health.
 */
export interface RevocationSource {
  /** Connects; rejects after `timeoutMs`. */
  connect(timeoutMs: number): Promise<void>;
  /** Identity of the log's lifetime (Redis `run_id`); `undefined` when it cannot be known (cluster). */
  epoch(): Promise<string | undefined>;
  /**
   * Up to `count` entries after `afterId` (exclusive; `'0'` = from the start), in stream order:
   * every read returns ascending ids.
   */
  range(afterId: string, count: number): Promise<SourceEntry[]>;
  /**
   * Atomically: how many entries were ever appended (`null` when the log does not exist)
   * and up to `count` entries after `afterId`.
   */
  snapshot(afterId: string, count: number): Promise<{ added: number | null; entries: SourceEntry[] }>;
  /** Entries after `afterId`, waiting up to `blockMs` for some; `[]` on timeout. */
  wait(afterId: string, count: number, blockMs: number): Promise<SourceEntry[]>;
  /** Called on every disconnect or connection error. */
  onDisconnect(listener: () => void): void;
  close(): void;
}

/** A position in the log, to resume following from (see {@link FollowRevocationsOptions.from}). */
export interface RevocationPosition {
  /** Last id read. */
  id: string;
  /** How many entries had ever been appended up to `id`. */
  added: number;
  /** The log's lifetime when `id` was read (Redis `run_id`). */
  epoch: string | undefined;
}

export interface FollowRevocationsOptions {
  /** Receives every entry, in order (malformed entries are skipped). */
  onEntry(entry: RevocationEntry): void;
  /**
   * Entries may have been lost (the log was trimmed past our position, or Redis restarted or
   * failed over): the follower reads the log again from its start. Drop anything derived.
   */
  onLoss?: () => void;
  /** Called after every read (possibly empty) with the clock's time: a place to prune. */
  onRead?: (now: number) => void;
  /** Where to resume; without it the log is read from its start. */
  from?: RevocationPosition;
  clock: Clock;
  /** Longest wait for new entries; the follower is heard from at least this often while healthy (ms). @default 1000 */
  blockMs?: number;
  /**
   * Entries per page when (re)loading. Small pages keep a start-up's transient memory low (a
   * page's reply lives until it is applied, long enough to be promoted by the GC); the next
   * page is always in flight meanwhile, so they cost no extra round-trip time. @default 2000
   */
  pageSize?: number;
  /** How often to re-check the position against the log, while connected (ms). @default 5000 */
  checkIntervalMs?: number;
  /** How long `start()` waits for the connection (ms). @default 5000 */
  connectTimeoutMs?: number;
}

/** A running subscription to the revocation log. */
export interface RevocationFollower {
  /** Reads the log from its start (or resumes `from`), then keeps following in the background. */
  start(): Promise<void>;
  /** `true` while connected, checked, and heard from within `maxLagMs`. */
  isCurrent(now: number, maxLagMs: number): boolean;
  /** Last id applied (`'0'` before anything was read). */
  readonly lastId: string;
  /** When the last read returned (ms, follower clock); 0 = never. */
  readonly lastReadAt: number;
  /** Tokens issued at or before this time (ms) may concern a lost revocation; 0 = none. */
  readonly suspectBefore: number;
  /** How many times entries may have been lost (each followed by a reload). */
  readonly losses: number;
  /** How many position checks ran (loss detection). */
  readonly checks: number;
  /** Where to resume later. */
  position(): RevocationPosition;
  close(): Promise<void>;
}

/**
 * Follows a revocation log (design notes §2). Lost entries are detected by counting: the
 * follower knows how many entries were ever appended up to its position; the log's own
 * count minus the entries after that position must equal it, or entries it never saw were
 * trimmed or deleted (or the log vanished). The same holds when the log's epoch changed
 * (restart or failover: writes may be lost). Either way it reports the loss, reads the log
 * again from its start, and marks every token issued before that moment as suspect. The
 * check runs after every error or disconnect, before the follower is current again, and
 * every `checkIntervalMs`.
 */
export function followRevocations(
  source: RevocationSource,
  options: FollowRevocationsOptions,
): RevocationFollower {
  return new Follower(source, options);
}

class Follower implements RevocationFollower {
  lastId = '0';
  lastReadAt = 0;
  suspectBefore = 0;
  losses = 0;
  checks = 0;
  private accounted: number | undefined;
  private runId: string | undefined;
  private connected = false;
  /** A disconnect or error happened: not current until the position is checked. */
  private needsCheck = true;
  /** A routine check is due (the follower stays current while it runs). */
  private checkDue = false;
  private closed = false;
  private lastCheckAt = 0;
  private loop: Promise<void> | undefined;
  private readonly blockMs: number;
  private readonly pageSize: number;
  private readonly checkIntervalMs: number;

  constructor(
    private readonly source: RevocationSource,
    private readonly options: FollowRevocationsOptions,
  ) {
    this.blockMs = options.blockMs ?? 1000;
    this.pageSize = options.pageSize ?? 2000;
    this.checkIntervalMs = options.checkIntervalMs ?? 5000;
    source.onDisconnect(() => this.markDisconnected());
  }

  isCurrent(now: number, maxLagMs: number): boolean {
    return this.connected && !this.needsCheck && now - this.lastReadAt <= maxLagMs;
  }

  position(): RevocationPosition {
    return { id: this.lastId, added: this.accounted ?? 0, epoch: this.runId };
  }

  async start(): Promise<void> {
    await this.source.connect(this.options.connectTimeoutMs ?? 5000);
    const from = this.options.from;
    if (from === undefined) {
      this.runId = await this.source.epoch();
      await this.reload();
    } else {
      this.lastId = from.id;
      this.accounted = from.added;
      this.runId = from.epoch;
      await this.checkPosition();
    }
    this.needsCheck = false;
    this.connected = true;
    this.lastReadAt = this.options.clock.now();
    this.lastCheckAt = this.lastReadAt;
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.source.close();
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
        const entries = await this.source.wait(this.lastId, 1000, this.blockMs);
        this.apply(entries);
        if (this.accounted !== undefined) this.accounted += entries.length;
        const now = this.options.clock.now();
        if (!this.needsCheck) {
          this.connected = true;
          this.lastReadAt = now;
        }
        if (now - this.lastCheckAt >= this.checkIntervalMs) this.checkDue = true;
        this.options.onRead?.(now);
      } catch {
        this.markDisconnected();
        if (!this.closed) await delay(100);
      }
    }
  }

  private async checkPosition(): Promise<void> {
    const routine = !this.needsCheck;
    const runId = await this.source.epoch();
    const restarted = runId !== this.runId;
    this.runId = runId;
    if (restarted || !(await this.catchUp(routine))) {
      this.needsCheck = true;
      this.suspectBefore = this.options.clock.now();
      this.losses += 1;
      this.options.onLoss?.();
      await this.reload();
    }
    this.checks += 1;
    // Caught up atomically with the count: current from here, without waiting for a read.
    this.lastCheckAt = this.options.clock.now();
    this.lastReadAt = this.lastCheckAt;
    this.connected = true;
    this.needsCheck = false;
    this.checkDue = false;
  }

  /** Reads every entry from the log's start; then counts where that leaves us. */
  private async reload(): Promise<void> {
    this.lastId = '0';
    this.accounted = undefined;
    // The next page is asked for before this one is applied: Redis reads and sends it while
    // the entries are being recorded (a guard that starts with 100k outstanding pays the
    // round trips and the decoding once, not one after the other).
    let page = await this.source.range(this.lastId, this.pageSize);
    for (;;) {
      const last = page[page.length - 1];
      const next =
        page.length < this.pageSize || last === undefined
          ? undefined
          : this.source.range(last.id, this.pageSize);
      // Awaited below; until then a rejection must not count as unhandled (apply may throw first).
      next?.catch(() => {});
      this.apply(page);
      if (next === undefined) break;
      page = await next;
    }
    await this.catchUp();
  }

  /**
   * Atomically reads the append count and the entries after our position, applies those, and
   * returns `false` when the count shows entries we never saw were removed.
   *
   * `routine` (connected and current since the last check): a log that vanished then expired
   * by its TTL, which every append resets to the retention (≥ the longest access token): any
   * entry we could have missed was appended at least that long ago, so no token it concerns
   * is still valid. After a disconnect a vanished log counts as lost.
   */
  private async catchUp(routine = false): Promise<boolean> {
    for (;;) {
      const { added, entries } = await this.source.snapshot(this.lastId, this.pageSize);
      if (entries.length === this.pageSize) {
        this.apply(entries);
        if (this.accounted !== undefined) this.accounted += entries.length;
        continue;
      }
      const vanishedQuietly = routine && added === null && entries.length === 0;
      const consistent =
        this.accounted === undefined || vanishedQuietly || (added ?? 0) - entries.length === this.accounted;
      if (!consistent) return false;
      this.apply(entries);
      this.accounted = added ?? 0;
      return true;
    }
  }

  /** Entries come in stream order (ascending ids): the position is the last one's id. */
  private apply(entries: readonly SourceEntry[]): void {
    const { onEntry } = this.options;
    for (let i = 0; i < entries.length; i++) {
      const entry = (entries[i] as SourceEntry).entry;
      if (entry !== null) onEntry(entry);
    }
    const last = entries[entries.length - 1];
    if (last !== undefined && compareStreamIds(last.id, this.lastId) > 0) this.lastId = last.id;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
