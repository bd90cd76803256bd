import { hasWebLocks, holdWebLock } from './tab-sync.ts';

interface EventSourceLike {
  readonly readyState: number;
  onerror: ((event: unknown) => void) | null;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  close(): void;
}
type EventSourceClass = new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;

const CLOSED = 2;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export interface SessionEventsOptions {
  /** `GET /v1/session/events` of the auth service. */
  url: string;
  /** Web Lock name: only the tab holding it keeps a stream open; the others hear it on the channel. */
  lockName: string;
  /** The server said the session ended. */
  onEnded(code: string): void;
  /** The stream was refused (401, …): does the session still live (after a refresh if needed)? */
  probe(): Promise<'live' | 'ended' | 'unknown'>;
}

function endedCode(data: unknown): string {
  try {
    const parsed = JSON.parse(String(data)) as { code?: unknown };
    return typeof parsed.code === 'string' ? parsed.code : 'session_revoked';
  } catch {
    return 'session_revoked';
  }
}

/**
 * Follows the caller's own session on the server's event stream and calls `onEnded` when it
 * ends. With the Web Locks API one tab of the browser holds the stream (browsers allow six
 * HTTP/1.1 connections per host; a stream per tab would use them up), and the next tab takes
 * over when that one closes. Returns `stop`.
 */
export function watchSessionEvents(options: SessionEventsOptions): () => void {
  const EventSource = (globalThis as { EventSource?: EventSourceClass }).EventSource;
  if (typeof EventSource !== 'function') return () => {};
  let stopped = false;
  let source: EventSourceLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish: (() => void) | undefined;

  const follow = () =>
    new Promise<void>((resolve) => {
      let retryMs = FIRST_RETRY_MS;
      finish = resolve;
      const retry = () => {
        timer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      };
      const connect = () => {
        if (stopped) return resolve();
        const current = new EventSource(options.url, { withCredentials: true });
        source = current;
        current.addEventListener('open', () => {
          retryMs = FIRST_RETRY_MS;
        });
        current.addEventListener('ended', (event) => {
          current.close();
          options.onEnded(endedCode(event.data));
          resolve();
        });
        current.onerror = () => {
          // While CONNECTING the browser retries by itself (server restarting); CLOSED means the
          // stream was refused: ask the API, which refreshes once if the access token expired.
          if (current.readyState !== CLOSED || stopped) return;
          options.probe().then(
            (state) => (state === 'ended' ? resolve() : retry()),
            () => retry(),
          );
        };
      };
      connect();
    });

  if (hasWebLocks()) holdWebLock(options.lockName, follow).catch(() => {});
  else follow().catch(() => {});
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    source?.close();
    finish?.();
  };
}
