/**
 * A cross-tab lock for runtimes without the Web Locks API, elected over a `BroadcastChannel`:
 * a tab claims (random id + time), listens for competing claims for `SETTLE_MS`, and the
 * earliest claim wins and says `held` (again to every later claim), and `released` when
 * done. A settling tab answers a later claim with its own at once, so a tab that opened its
 * channel after that claim still hears it. A holder that vanishes (tab closed) is waited for at most `HOLD_TIMEOUT_MS`.
 *
 * Best effort: two tabs that do not hear each other's claim within `SETTLE_MS` may both run
 * (a refresh is then repeated inside the server's grace window, which is harmless).
 */

type LockMessage =
  | { type: 'claim'; id: string; at: number }
  | { type: 'held'; id: string }
  | { type: 'released'; id: string };

const SETTLE_MS = 80;
const HOLD_TIMEOUT_MS = 10_000;

const local = new Map<string, Promise<unknown>>();

function randomId(): string {
  return globalThis.crypto.randomUUID();
}

function earlier(a: { id: string; at: number }, b: { id: string; at: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

async function acquire(name: string): Promise<() => void> {
  const channel = new BroadcastChannel(name);
  (channel as { unref?: () => void }).unref?.();
  let mine: { id: string; at: number } | undefined;
  let holding = false;
  let settling = false;
  const released = new Set<string>();
  let rivals: Array<{ id: string; at: number }> = [];
  let heldBy: string | undefined;
  let wake: (() => void) | undefined;
  channel.onmessage = (event: MessageEvent) => {
    const message = event.data as LockMessage;
    if (message.type === 'claim') {
      if (holding && mine) channel.postMessage({ type: 'held', id: mine.id } satisfies LockMessage);
      else {
        rivals.push({ id: message.id, at: message.at });
        // A later claimer may have opened its channel after our claim went out: tell it again
        // now, rather than only when our settling ends (timers run late in a busy tab).
        if (settling && mine && earlier(mine, message)) {
          channel.postMessage({ type: 'claim', ...mine } satisfies LockMessage);
        }
      }
    } else if (message.type === 'held') {
      if (!released.has(message.id)) heldBy = message.id;
    } else if (message.type === 'released') {
      // Remembered: a release can arrive before this tab decides to wait for that holder.
      released.add(message.id);
      if (message.id === heldBy) {
        heldBy = undefined;
        wake?.();
      }
    }
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  for (;;) {
    if (heldBy !== undefined) {
      await sleep(HOLD_TIMEOUT_MS);
      heldBy = undefined;
    }
    mine = { id: randomId(), at: Date.now() };
    rivals = [];
    channel.postMessage({ type: 'claim', ...mine } satisfies LockMessage);
    settling = true;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    settling = false;
    const live = rivals.filter((claim) => !released.has(claim.id));
    const winner = live.reduce((best, claim) => (earlier(claim, best) ? claim : best), mine);
    if (heldBy === undefined && winner === mine) break;
    // Withdrawn: a tab that took this claim for the winner's stops waiting for it.
    channel.postMessage({ type: 'released', id: mine.id } satisfies LockMessage);
    heldBy ??= winner.id; // the holder, or the winner, says `released` when done
  }
  holding = true;
  const id = mine.id;
  // A tab that opened its channel after our claim never heard it, and may believe it won: say so.
  channel.postMessage({ type: 'held', id } satisfies LockMessage);
  return () => {
    holding = false;
    channel.postMessage({ type: 'released', id } satisfies LockMessage);
    channel.close();
  };
}

/** Runs `task` while holding the broadcast lock `name` (queued behind this tab's own holders). */
export function acquireBroadcastLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  const before = local.get(name) ?? Promise.resolve();
  const run = before
    .catch(() => {})
    .then(async () => {
      const release = await acquire(name);
      try {
        return await task();
      } finally {
        release();
      }
    });
  local.set(name, run);
  const forget = () => {
    if (local.get(name) === run) local.delete(name);
  };
  run.then(forget, forget);
  return run;
}
