import { acquireBroadcastLock } from './broadcast-lock.ts';

/** What tabs of one browser tell each other on the client's `BroadcastChannel`. */
export type TabMessage =
  /** A refresh finished at `at` (ms, `Date.now()`): cookies are new, requests sent before may retry. */
  | { type: 'refreshed'; at: number }
  /** The session ended (`code`: `logged_out`, `session_revoked`, `session_expired`, …). */
  | { type: 'signed-out'; code: string };

/** Runs `task` while holding a lock shared by every tab of this origin. */
export type TabLock = <T>(task: () => Promise<T>) => Promise<T>;

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The Web Locks API (`navigator.locks`) when the runtime has it. */
function webLocks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return typeof nav?.locks?.request === 'function' ? nav.locks : undefined;
}

export interface TabSync {
  post(message: TabMessage): void;
  /** Registers a listener for messages of the other tabs; returns its removal. */
  listen(listener: (message: TabMessage) => void): () => void;
  /** Cross-tab lock: Web Locks when available, else a leader elected over the channel. */
  lock(name: string): TabLock;
  close(): void;
}

function isTabMessage(value: unknown): value is TabMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  return (
    (message.type === 'refreshed' && typeof message.at === 'number') ||
    (message.type === 'signed-out' && typeof message.code === 'string')
  );
}

/**
 * Opens the tab channel `name`; `undefined` where the runtime has no `BroadcastChannel`
 * (then the client coordinates within its own tab only).
 */
export function openTabSync(name: string): TabSync | undefined {
  if (typeof globalThis.BroadcastChannel !== 'function') return undefined;
  const channel = new BroadcastChannel(name);
  (channel as { unref?: () => void }).unref?.(); // Node: an open channel must not keep the process alive
  const listeners = new Set<(message: TabMessage) => void>();
  channel.onmessage = (event: MessageEvent) => {
    if (!isTabMessage(event.data)) return;
    for (const listener of listeners) listener(event.data);
  };
  const locks = webLocks();
  return {
    post: (message) => channel.postMessage(message),
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lock(lockName) {
      if (locks) return (task) => locks.request(`${name}:${lockName}`, task);
      return (task) => acquireBroadcastLock(`${name}:${lockName}`, task);
    },
    close() {
      listeners.clear();
      channel.close();
    },
  };
}

/** `true` when the runtime gives the Web Locks API (leader election for the event stream). */
export function hasWebLocks(): boolean {
  return webLocks() !== undefined;
}

/** Holds the Web Lock `name` until `until` settles (used to elect one event-stream tab). */
export function holdWebLock(name: string, until: () => Promise<void>): Promise<void> {
  const locks = webLocks();
  if (!locks) return until();
  return locks.request(name, until);
}
