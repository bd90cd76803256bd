import { errorFromResponse, TesseraClientError } from './errors.ts';
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
}

export interface TesseraClient {
  login(username: string, password: string, options?: { force?: boolean }): Promise<ClientSession>;
  /** Single-flight: concurrent callers (tabs, parallel requests) share one refresh call. */
  refresh(): Promise<ClientSession>;
  /** `fetch` with the session's credential; on 401 `token_expired` refreshes once and retries. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  session(): Promise<{ session: ClientSession; user: { id: string; username: string; roles: string[] } }>;
  logout(): Promise<void>;
  logoutAll(): Promise<void>;
  /** The access token in bearer mode (`undefined` in cookie mode or before login). */
  readonly accessToken: string | undefined;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

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
  let accessToken: string | undefined;
  let refreshToken: string | undefined;
  let inFlight: Promise<ClientSession> | undefined;

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

  function refresh(): Promise<ClientSession> {
    inFlight ??= (async () => {
      try {
        const response =
          transfer === 'cookie'
            ? await call('/v1/refresh', { method: 'POST' })
            : await json('/v1/refresh', { refreshToken });
        return await takeTokens(response);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
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
    const first = await send();
    if (first.status !== 401) return first;
    const problem = (await first
      .clone()
      .json()
      .catch(() => ({}))) as { code?: unknown };
    if (problem.code !== 'token_expired') return first;
    await refresh();
    return send();
  }

  async function endSession(path: string): Promise<void> {
    const response = await call(path, { method: 'POST' });
    accessToken = undefined;
    refreshToken = undefined;
    if (!response.ok && response.status !== 401) throw await errorFromResponse(response);
  }

  return {
    login: async (username, password, loginOptions) =>
      takeTokens(
        await json('/v1/login', { username, password, ...(loginOptions?.force ? { force: true } : {}) }),
      ),
    refresh,
    fetch: authorizedFetch,
    session: async () => {
      const response = await call('/v1/session');
      if (!response.ok) throw await errorFromResponse(response);
      return response.json() as Promise<Awaited<ReturnType<TesseraClient['session']>>>;
    },
    logout: () => endSession('/v1/logout'),
    logoutAll: () => endSession('/v1/logout/all'),
    get accessToken() {
      return accessToken;
    },
  };
}
