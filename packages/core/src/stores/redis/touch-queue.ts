import { createHash, randomUUID } from 'node:crypto';
import { ReplyError } from 'ioredis';
import { DEFAULT_KEY_PREFIX } from '../revocations/entry-format.ts';
import { userIdOfSession } from '../store-input.ts';
import type { RedisClient } from './connection.ts';
import { defineScripts } from './lua-scripts.ts';
import { createRedisKeys } from './redis-keys.ts';

/**
 * Guards may not write sessions (Redis ACLs cannot allow a script's `HSET` while refusing a
 * direct one), so in opaque mode a guard's throttled touch is one `XADD` to a touch queue:
 * `<prefix>{tq:<n>}`, n = 0…7 by the session id, fields `sid`, `at` (ms). The auth service
 * applies the queue (`startTouchApplier`): the same `touch.lua` as its own touches.
 */
export const TOUCH_QUEUES = 8;
/** Entries a queue keeps at most (approximately) when no auth service drains it. */
const QUEUE_MAX = 100_000;
const GROUP = 'tessera-auth';
/** A drained queue expires after a day without touches. */
const QUEUE_TTL_MS = 86_400_000;

export function touchQueueKeys(prefix: string = DEFAULT_KEY_PREFIX): string[] {
  return Array.from({ length: TOUCH_QUEUES }, (_, n) => `${prefix}{tq:${n}}`);
}

/** The queue a session's touches go to. */
export function touchQueueKey(prefix: string, sessionId: string): string {
  const n = (createHash('sha256').update(sessionId).digest()[0] ?? 0) % TOUCH_QUEUES;
  return `${prefix}{tq:${n}}`;
}

/** Appends one touch (what the guard's reader, `openRedisSessionReader`, does in `touchSession`). */
export async function enqueueTouch(client: RedisClient, prefix: string, sessionId: string, now: number) {
  await client.xadd(
    touchQueueKey(prefix, sessionId),
    'MAXLEN',
    '~',
    QUEUE_MAX,
    '*',
    'sid',
    sessionId,
    'at',
    now,
  );
}

export interface TouchApplierOptions {
  client: RedisClient;
  /** @default 'tessera:' */
  keyPrefix?: string;
  idleMs: number;
  /** At most one write per session per this many ms (the auth service's own throttle). */
  minIntervalMs: number;
  /** @default 600000 (as the store) */
  tombstoneMs?: number;
  /** Pause between rounds when the queues were empty (ms). @default 250 */
  intervalMs?: number;
  /** Current time (ms); a touch is never applied later than now. @default Date.now */
  now?: () => number;
  /**
   * A round failed (Redis unreachable, or `refused`: the ACL user may not run a command, a
   * `NOPERM` reply): counted and logged by the caller.
   */
  onError?: (error: unknown, refused: boolean) => void;
}

export interface TouchApplier {
  /** Touches applied so far. */
  readonly applied: number;
  /** Rounds that failed so far. */
  readonly errors: number;
  close(): Promise<void>;
}

/**
 * Drains the touch queues: every auth instance reads through one consumer group
 * (`XREADGROUP … NOACK`: each touch goes to one instance, a lost touch is harmless), keeps the
 * latest touch per session of a batch, applies it with `touch.lua` (which slides the idle
 * expiry, never beyond the absolute one, never backwards), then trims what was handed out.
 */
export function startTouchApplier(options: TouchApplierOptions): TouchApplier {
  const { client } = options;
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const keys = createRedisKeys(prefix);
  const run = defineScripts(client);
  const now = options.now ?? Date.now;
  const tomb = options.tombstoneMs ?? 600_000;
  const consumer = randomUUID();
  const queues = touchQueueKeys(prefix);
  const grouped = new Set<string>();
  let closed = false;
  let applied = 0;
  let errors = 0;
  let wake: (() => void) | undefined;

  async function ensureGroup(queue: string): Promise<void> {
    if (grouped.has(queue)) return;
    try {
      await client.xgroup('CREATE', queue, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test(String(error))) throw error;
    }
    grouped.add(queue);
  }

  async function drain(queue: string): Promise<number> {
    await ensureGroup(queue);
    let reply: unknown;
    try {
      reply = await client.xreadgroup('GROUP', GROUP, consumer, 'COUNT', 500, 'NOACK', 'STREAMS', queue, '>');
    } catch (error) {
      if (/NOGROUP/.test(String(error))) grouped.delete(queue); // the queue expired or a failover lost it
      throw error;
    }
    const entries = (reply as Array<[string, Array<[string, string[]]>]> | null)?.[0]?.[1] ?? [];
    if (entries.length === 0) return 0;
    const latest = new Map<string, number>();
    for (const [, fields] of entries) {
      const sid = fields[fields.indexOf('sid') + 1];
      const at = Number(fields[fields.indexOf('at') + 1]);
      if (sid === undefined || !Number.isSafeInteger(at) || userIdOfSession(sid) === null) continue;
      latest.set(sid, Math.max(latest.get(sid) ?? 0, Math.min(at, now())));
    }
    for (const [sid, at] of latest) {
      const uid = userIdOfSession(sid) as string;
      await run(
        'touch',
        [keys.session(uid, sid), keys.index(uid)],
        [at, tomb, sid, options.idleMs, options.minIntervalMs],
      );
      applied += 1;
    }
    const lastId = entries[entries.length - 1]?.[0] ?? '0-0';
    const [ms, seq] = lastId.split('-');
    // Every entry up to lastId was handed out to some instance: trim them, keep the rest.
    await client.xtrim(queue, 'MINID', `${ms}-${Number(seq) + 1}`);
    await client.pexpire(queue, QUEUE_TTL_MS);
    return entries.length;
  }

  const loop = (async () => {
    while (!closed) {
      let busy = false;
      for (const queue of queues) {
        if (closed) break;
        try {
          if ((await drain(queue)) > 0) busy = true;
        } catch (error) {
          errors += 1;
          options.onError?.(
            error,
            error instanceof ReplyError && (error as Error).message.startsWith('NOPERM'),
          );
        }
      }
      if (!busy && !closed) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, options.intervalMs ?? 250).unref();
        });
      }
    }
  })();

  return {
    get applied() {
      return applied;
    },
    get errors() {
      return errors;
    },
    async close() {
      closed = true;
      wake?.();
      await loop;
    },
  };
}
