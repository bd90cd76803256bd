import { ADMIN_TOKEN, type ShopStack } from './shop-stack.ts';

/** What one outage looked like from the outside. */
export interface OutageReport {
  target: string;
  /** From the SIGKILL until a login works again (ms). */
  sessionsBackMs: number;
  /** From the SIGKILL until Redis reports a replica promoted in the dead master's place (ms). */
  failoverMs: number;
  /** From the SIGKILL until a revocation is answered 2xx again (ms; includes the replica coming back). */
  revocationsBackMs: number;
  /** Answers to probe requests during the outage, by status (`live:503`, `revoked:401`, …). */
  statuses: Record<string, number>;
}

export interface Victim {
  token: string;
  sessionId: string;
  how: 'logout' | 'revoke-all';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HTTP status of one request, or 0 when the connection failed. */
async function statusOf(url: string, token: string): Promise<number> {
  try {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Drives logins, revocations and probes against a shop stack (auth + orders + profile). */
export function createProbe(stack: ShopStack) {
  const endpoints = (token: string) =>
    [
      `${stack.services.orders.url}/whoami`,
      `${stack.services.profile.url}/whoami`,
      `${stack.authUrl}/v1/authorize`,
    ].map((url) => ({ url, token }));

  async function tryLogin(username: string): Promise<{ token: string; sessionId: string } | number> {
    try {
      const response = await fetch(`${stack.authUrl}/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: `${username}-password-123` }),
        signal: AbortSignal.timeout(5000),
      });
      if (response.status !== 200) {
        await response.arrayBuffer();
        return response.status;
      }
      const body = (await response.json()) as { accessToken: string; session: { id: string } };
      return { token: body.accessToken, sessionId: body.session.id };
    } catch {
      return 0;
    }
  }

  /** Logs in, retrying through an outage (503) until `timeoutMs`. */
  async function login(username: string, timeoutMs = 30_000): Promise<{ token: string; sessionId: string }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const result = await tryLogin(username);
      if (typeof result !== 'number') return result;
      if (Date.now() > end) throw new Error(`login of ${username} kept failing: ${result}`);
      await sleep(100);
    }
  }

  /** One revocation; the status it was answered with (204 = confirmed by a replica). */
  async function revoke(victim: { token: string }, how: Victim['how'], username: string): Promise<number> {
    try {
      const response =
        how === 'logout'
          ? await fetch(`${stack.authUrl}/v1/logout`, {
              method: 'POST',
              headers: { authorization: `Bearer ${victim.token}` },
              signal: AbortSignal.timeout(5000),
            })
          : await fetch(`${stack.authUrl}/v1/admin/users/${username}/sessions`, {
              method: 'DELETE',
              headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
              signal: AbortSignal.timeout(5000),
            });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  /**
   * Revokes a fresh session of `username` and retries a 503 (the contract: the revocation
   * is idempotent) until it is answered 204. Returns the victim.
   */
  async function revokeFresh(username: string, how: Victim['how'], timeoutMs = 30_000): Promise<Victim> {
    const session = await login(username, timeoutMs);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const status = await revoke(session, how, username);
      if (status === 204) return { ...session, how };
      if (status !== 503 && status !== 0) throw new Error(`revocation answered ${status}`);
      if (Date.now() > end) throw new Error('revocation kept failing with 503');
      await sleep(100);
    }
  }

  /** Statuses every revoked token gets from both services and /v1/authorize; `accepted` = 2xx answers. */
  async function checkRevoked(victims: readonly Victim[]): Promise<{ accepted: number; statuses: number[] }> {
    const statuses = await Promise.all(
      victims.flatMap((v) => endpoints(v.token)).map(({ url, token }) => statusOf(url, token)),
    );
    return { accepted: statuses.filter((s) => s >= 200 && s < 300).length, statuses };
  }

  /**
   * Runs `kill` and then probes, every ~100 ms, the live token and the newest revoked tokens
   * on every endpoint until a login works (`sessionsBackMs`); then runs `restore` (bring a
   * replica back) and waits until a revocation is answered 204 again.
   */
  async function outage(options: {
    target: string;
    kill: () => void | Promise<void>;
    /** `true` once a replica took the dead master's place. */
    failedOver: () => Promise<boolean>;
    restore: () => Promise<void>;
    live: { token: string };
    revoked: readonly Victim[];
    username: string;
  }): Promise<OutageReport> {
    const statuses: Record<string, number> = {};
    const count = (key: string) => {
      statuses[key] = (statuses[key] ?? 0) + 1;
    };
    const started = Date.now();
    await options.kill();
    let sessionsBackMs = -1;
    let failoverMs = -1;
    while (sessionsBackMs < 0 || failoverMs < 0) {
      const probes = [
        ...endpoints(options.live.token).map((p) => ({ ...p, kind: 'live' })),
        ...options.revoked
          .slice(-2)
          .flatMap((v) => endpoints(v.token).map((p) => ({ ...p, kind: 'revoked' }))),
      ];
      const results = await Promise.all(
        probes.map(async (p) => ({ kind: p.kind, status: await statusOf(p.url, p.token) })),
      );
      for (const r of results) count(`${r.kind}:${r.status}`);
      if (sessionsBackMs < 0) {
        const login = await tryLogin(options.username);
        count(`login:${typeof login === 'number' ? login : 200}`);
        if (typeof login !== 'number') sessionsBackMs = Date.now() - started;
      }
      if (failoverMs < 0 && (await options.failedOver().catch(() => false)))
        failoverMs = Date.now() - started;
      if (Date.now() - started > 60_000)
        throw new Error(`no recovery within 60 s: ${JSON.stringify(statuses)}`);
      if (sessionsBackMs < 0 || failoverMs < 0) await sleep(100);
    }
    await options.restore();
    await revokeFresh(options.username, 'logout', 60_000);
    const revocationsBackMs = Date.now() - started;
    return { target: options.target, sessionsBackMs, failoverMs, revocationsBackMs, statuses };
  }

  return { login, revokeFresh, revoke, checkRevoked, outage, endpoints, statusOf };
}

/** Creates users with password `<name>-password-123`; returns their ids. */
export async function addUsers(stack: ShopStack, usernames: readonly string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const username of usernames) {
    const response = await fetch(`${stack.authUrl}/v1/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: `${username}-password-123`, roles: ['user'] }),
    });
    if (response.status !== 201) throw new Error(`could not create ${username}: ${response.status}`);
    ids.set(username, ((await response.json()) as { id: string }).id);
  }
  return ids;
}
