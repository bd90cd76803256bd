import { errorFromResponse, TesseraClientError } from './errors.ts';
import { watchSessionEvents } from './session-events.ts';
import { openTabSync, type TabLock, type TabSync } from './tab-sync.ts';
import type { ClientSession, TokenResponseBody } from './types.ts';

export interface TesseraClientOptions {
  /** Base URL of the auth service, e.g. `https://auth.example.com`. */
  authUrl: string;
  /**
   * `bearer`: the client keeps the tokens in memory and sends `Authorization: Bearer`.
   * `cookie`: the auth service sets HttpOnly cookies (`X-Tessera-Transfer: cookie`); the
   * client never sees a token and sends the anti-CSRF header on unsafe requests.
   * @default 'bearer'
   */
  transfer?: 'bearer' | 'cookie';
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Name of the `BroadcastChannel` (and Web Locks) shared by the tabs of one browser. With
   * cookie transfer the tabs share one credential, so they refresh it one at a time and tell
   * each other about sign-outs; `false` keeps the client to its own tab.
   * @default 'tessera'
   */
  tabs?: string | false;
}

/** Why the session is over for this client: a problem `code`, or `logged_out`. */
export interface SignedOut {
  code: string;
  /** `true` when another tab of this browser found out first. */
  fromOtherTab: boolean;
}

export interface TesseraClient {
  login(username: string, password: string, options?: { force?: boolean }): Promise<ClientSession>;
  /** Single-flight: concurrent callers in this tab (and, in cookie mode, in other tabs) share one refresh. */
  refresh(): Promise<ClientSession>;
  /**
   * `fetch` with the session's credential. On a 401 that a refresh can fix (`token_expired`,
   * or `invalid_token` when the expired access cookie was not even sent) it refreshes once
   * (shared with every tab) and retries once; on any other 401 it answers as is and never loops.
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  session(): Promise<{ session: ClientSession; user: { id: string; username: string; roles: string[] } }>;
  logout(): Promise<void>;
  logoutAll(): Promise<void>;
  /** Called once when the session ends: here, in another tab, or on the server (`watchSession`). */
  onSignedOut(listener: (reason: SignedOut) => void): () => void;
  /** Follows `GET /v1/session/events` (cookie mode, browsers): the end of the session is told at once. */
  watchSession(): () => void;
  /** Closes the tab channel and the event stream. */
  close(): void;
  /** The access token in bearer mode (`undefined` in cookie mode or before login). */
  readonly accessToken: string | undefined;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** 401 codes a refresh can fix; `invalid_token` also covers "no access cookie" (it expired in the jar). */
const REFRESHABLE = new Set(['token_expired', 'invalid_token']);
/** Codes that end the session for good: no refresh can fix them. */
const ENDED = new Set(['session_revoked', 'session_expired', 'refresh_token_reused']);

/**
 * Browser/Node client for the Tessera auth service.
 *
 * @example
 * const client = createTesseraClient({ authUrl: 'http://127.0.0.1:4000' });
 * await client.login('alice', 'correct horse battery');
 * const response = await client.fetch('http://127.0.0.1:4101/whoami');
 */
export function createTesseraClient(options: TesseraClientOptions): TesseraClient {
  const base = new URL(options.authUrl);
  const transfer = options.transfer ?? 'bearer';
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const channelName = options.tabs === false ? undefined : (options.tabs ?? 'tessera');
  // Bearer tokens live in this tab's memory only: nothing to share with other tabs.
  const tabs: TabSync | undefined =
    channelName !== undefined && transfer === 'cookie' ? openTabSync(channelName) : undefined;
  const refreshLock: TabLock = tabs ? tabs.lock('refresh') : (task) => task();
  const listeners = new Set<(reason: SignedOut) => void>();
  let accessToken: string | undefined;
  let refreshToken: string | undefined;
  let refreshing: Promise<ClientSession> | undefined;
  let renewing: Promise<unknown> | undefined;
  const stopWatching = new Set<() => void>();
  /** When the latest refresh (this tab's or another's) finished, `Date.now()` ms. */
  let refreshedAt = Number.NEGATIVE_INFINITY;
  let ended = false;

  function signOut(code: string, fromOtherTab: boolean): void {
    accessToken = undefined;
    refreshToken = undefined;
    if (ended) return;
    ended = true;
    if (!fromOtherTab) tabs?.post({ type: 'signed-out', code });
    for (const listener of [...listeners]) listener({ code, fromOtherTab });
  }

  tabs?.listen((message) => {
    if (message.type === 'refreshed') refreshedAt = Math.max(refreshedAt, message.at);
    else signOut(message.code, true);
  });

  function headersFor(method: string, extra?: ConstructorParameters<typeof Headers>[0]): Headers {
    const headers = new Headers(extra);
    if (transfer === 'cookie') {
      headers.set('x-tessera-transfer', 'cookie');
      if (UNSAFE.has(method)) headers.set('x-tessera-csrf', '1');
    } else if (accessToken && !headers.has('authorization')) {
      headers.set('authorization', `Bearer ${accessToken}`);
    }
    return headers;
  }

  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    try {
      return await doFetch(new URL(path, base), {
        ...init,
        method,
        headers: headersFor(method, init.headers),
        credentials: transfer === 'cookie' ? 'include' : 'same-origin',
      });
    } catch (cause) {
      throw new TesseraClientError(0, 'network_error', 'the auth service could not be reached', { cause });
    }
  }

  async function takeTokens(response: Response): Promise<ClientSession> {
    if (!response.ok) throw await errorFromResponse(response);
    const body = (await response.json()) as TokenResponseBody;
    if (transfer === 'bearer') {
      accessToken = body.accessToken;
      refreshToken = body.refreshToken ?? refreshToken;
    }
    return body.session;
  }

  async function json(path: string, body: unknown): Promise<Response> {
    return call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function refreshNow(): Promise<ClientSession> {
    const response =
      transfer === 'cookie'
        ? await call('/v1/refresh', { method: 'POST' })
        : await json('/v1/refresh', { refreshToken });
    try {
      const session = await takeTokens(response);
      refreshedAt = Date.now();
      tabs?.post({ type: 'refreshed', at: refreshedAt });
      return session;
    } catch (error) {
      if (error instanceof TesseraClientError && error.status === 401) signOut(error.code, false);
      throw error;
    }
  }

  /**
   * Makes the credential usable for a request sent at `sentAt`, with at most one refresh across
   * tabs: skipped when a refresh finished after `sentAt`; in cookie mode, the lock holder first
   * asks `/v1/session` whether another tab already refreshed (a refresh's news and a lock's
   * release may reach this tab in either order).
   */
  function renewAfter(sentAt: number): Promise<unknown> {
    if (refreshing) return refreshing;
    renewing ??= refreshLock(async () => {
      if (refreshedAt >= sentAt) return undefined;
      if (tabs) {
        const probe = await call('/v1/session');
        if (probe.ok) {
          refreshedAt = Date.now();
          return undefined;
        }
        const problem = await errorFromResponse(probe);
        if (!REFRESHABLE.has(problem.code)) {
          if (problem.status === 401) signOut(problem.code, false);
          throw problem;
        }
      }
      return refreshNow();
    }).finally(() => {
      renewing = undefined;
    });
    return renewing;
  }

  function refresh(): Promise<ClientSession> {
    refreshing ??= refreshLock(refreshNow).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  async function problemCode(response: Response): Promise<string | undefined> {
    const body = (await response
      .clone()
      .json()
      .catch(() => ({}))) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : undefined;
  }

  async function authorizedFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    const send = () =>
      doFetch(input, {
        ...init,
        method,
        headers: headersFor(method, init.headers),
        credentials: transfer === 'cookie' ? 'include' : 'same-origin',
      });
    const sentAt = Date.now();
    const first = await send();
    if (first.status !== 401) return first;
    const code = await problemCode(first);
    if (code !== undefined && ENDED.has(code)) signOut(code, false);
    if (ended || code === undefined || !REFRESHABLE.has(code)) return first;
    if (transfer === 'bearer' && refreshToken === undefined) return first;
    try {
      await renewAfter(sentAt);
    } catch {
      return first; // the refresh could not fix it (and said so to every tab): no loop
    }
    return send();
  }

  async function endSession(path: string): Promise<void> {
    const response = await call(path, { method: 'POST' });
    if (!response.ok && response.status !== 401) throw await errorFromResponse(response);
    signOut('logged_out', false);
  }

  return {
    login: async (username, password, loginOptions) => {
      const session = await takeTokens(
        await json('/v1/login', { username, password, ...(loginOptions?.force ? { force: true } : {}) }),
      );
      ended = false;
      return session;
    },
    refresh,
    fetch: authorizedFetch,
    session: async () => {
      const response = await call('/v1/session');
      if (!response.ok) throw await errorFromResponse(response);
      return response.json() as Promise<Awaited<ReturnType<TesseraClient['session']>>>;
    },
    logout: () => endSession('/v1/logout'),
    logoutAll: () => endSession('/v1/logout/all'),
    onSignedOut(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    watchSession() {
      const stop = watchSessionEvents({
        url: new URL('/v1/session/events', base).href,
        lockName: `${channelName ?? 'tessera'}:events`,
        onEnded: (code) => signOut(code, false),
        probe: async () => {
          const response = await authorizedFetch(new URL('/v1/session', base));
          if (response.ok) return 'live';
          return ended ? 'ended' : 'unknown';
        },
      });
      stopWatching.add(stop);
      return stop;
    },
    close() {
      for (const stop of stopWatching) stop();
      stopWatching.clear();
      listeners.clear();
      tabs?.close();
    },
    get accessToken() {
      return accessToken;
    },
  };
}
