import {
  type Clock,
  compareStreamIds,
  parseRevocationEntry,
  type RedisClient,
  type RevocationEntry,
  type RevocationFollower,
  revocationStreamKey,
  type SessionStore,
} from '@tessera/core/internal';

/**
 * Where the transmitter learns of revocations: the revocation feed, the one source of truth
 * (docs/redis-layout.md, "Revocation stream"). The only file that knows how the feed is read.
 *
 * `handle` is called with entries in feed order; an entry counts as done only once `handle`
 * resolved (at-least-once: after a crash it is handed out again, to this or another instance).
 */
export interface RevocationSource {
  start(handle: (entries: RevocationEntry[]) => Promise<void>): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Any `SessionStore` in this process (the embedded default, or a store handed in by a test):
 * core's `store.followRevocations` (the same follower the guards use) hands over each entry;
 * they are passed to `handle` in feed order, one batch at a time, and a batch `handle`
 * rejected is handed again. Nothing to keep across restarts: a memory store and its streams
 * die with the process. After a loss the follower reads the log again from its start; entries
 * already handled are skipped (feed ids only grow), and `onLoss` is told.
 */
export function storeRevocationSource(
  store: SessionStore,
  clock: Clock,
  options: { retryMs?: number; onLoss?(): void } = {},
): RevocationSource {
  const retryMs = options.retryMs ?? 100;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let follower: RevocationFollower | undefined;
  let pending: RevocationEntry[] = [];
  let wake: (() => void) | null = null;
  /** Id of the newest entry taken into `pending`. */
  let last = '0';

  const follow = () =>
    store.followRevocations({
      clock,
      onEntry(entry) {
        if (compareStreamIds(entry.id, last) <= 0) return;
        last = entry.id;
        pending.push(entry);
        wake?.();
      },
      ...(options.onLoss ? { onLoss: options.onLoss } : {}),
    });

  return {
    start(handle) {
      loop = (async () => {
        while (!stopped && !follower) {
          const candidate = follow();
          try {
            await candidate.start();
            follower = candidate;
          } catch {
            await candidate.close().catch(() => {});
            if (!stopped) await sleep(retryMs); // store unreachable: try again
          }
        }
        if (stopped) await follower?.close();
        while (!stopped) {
          if (pending.length === 0) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = null;
            continue;
          }
          const batch = pending;
          pending = [];
          try {
            await handle(batch);
          } catch {
            pending = [...batch, ...pending]; // handed again, in order
            if (!stopped) await sleep(retryMs);
          }
        }
      })();
    },
    async close() {
      stopped = true;
      wake?.();
      await follower?.close();
      await loop;
    },
  };
}

/** Consumer group of the transmitter on `<p>revocations`. */
export const FANOUT_GROUP = 'tessera-ssf';

type RawEntry = [string, string[] | null];

/**
 * The Redis revocation stream, read with a consumer group (`tessera-ssf`): every auth instance
 * is a consumer, so each entry is fanned out by one of them; an entry is `XACK`ed once its
 * events are queued; what a stopped instance held is taken over with `XAUTOCLAIM` after
 * `claimIdleMs`. `client` is a connection of its own (it blocks in `XREADGROUP`).
 *
 * The group is created at `0` (`MKSTREAM`, then the stream's usual TTL if it had none): each
 * stream only takes entries newer than itself, so older entries are harmless.
 */
export function redisRevocationSource(options: {
  client: RedisClient;
  prefix: string;
  consumer: string;
  retentionMs: number;
  claimIdleMs: number;
  /** Called when a read fails (at most once a minute); the read is retried meanwhile. */
  onError?(error: unknown): void;
}): RevocationSource {
  const { client, consumer } = options;
  const key = revocationStreamKey(options.prefix);
  let stopped = false;
  let loop: Promise<void> | undefined;

  const parse = (raw: RawEntry[]) =>
    raw.flatMap(([id, fields]) => (fields ? (parseRevocationEntry(id, fields) ?? []) : []));

  async function ensureGroup() {
    try {
      await client.xgroup('CREATE', key, FANOUT_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
    await client.pexpire(key, options.retentionMs, 'NX');
  }

  async function read(from: string, block: boolean): Promise<RawEntry[]> {
    const args: Array<string | number> = ['GROUP', FANOUT_GROUP, consumer, 'COUNT', 100];
    if (block) args.push('BLOCK', 1000);
    const reply = (await (client.xreadgroup as (...a: Array<string | number>) => Promise<unknown>)(
      ...args,
      'STREAMS',
      key,
      from,
    )) as Array<[string, RawEntry[]]> | null;
    return reply?.[0]?.[1] ?? [];
  }

  async function next(): Promise<RawEntry[]> {
    const own = await read('0', false);
    if (own.length > 0) return own;
    const claimed = (await client.call(
      'XAUTOCLAIM',
      key,
      FANOUT_GROUP,
      consumer,
      String(options.claimIdleMs),
      '0-0',
      'COUNT',
      '100',
    )) as [string, RawEntry[]];
    if ((claimed[1] ?? []).length > 0) return claimed[1];
    return read('>', true);
  }

  return {
    start(handle) {
      loop = (async () => {
        let grouped = false;
        let reportedAt = 0;
        while (!stopped) {
          try {
            if (!grouped) {
              await ensureGroup();
              grouped = true;
            }
            const raw = await next();
            if (raw.length === 0) continue;
            const entries = parse(raw);
            if (entries.length > 0) await handle(entries);
            await client.xack(key, FANOUT_GROUP, ...raw.map(([id]) => id));
          } catch (error) {
            // NOGROUP: the stream expired (no revocation for a whole retention) and came back
            if (error instanceof Error && error.message.startsWith('NOGROUP')) grouped = false;
            else if (Date.now() - reportedAt > 60_000) {
              reportedAt = Date.now();
              options.onError?.(error);
            }
            if (!stopped) await sleep(250);
          }
        }
      })();
    },
    async close() {
      stopped = true;
      await loop;
    },
  };
}
