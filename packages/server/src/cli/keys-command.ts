import { CLOCK_TOLERANCE_SECONDS } from '@tessera/core/internal';
import { loadConfig } from '../config/env-config.ts';
import { openKeyRing, openSessionStore } from '../resources.ts';
import { CliError, printLine } from './io.ts';

/**
 * How long guards remember a revoked key at least (ms): a token it signed cannot outlive the
 * service's access TTL, which this CLI run may not know (its own TESSERA_ACCESS_TTL may be
 * shorter), so the feed entry covers at least a day.
 */
const KEY_REVOCATION_MIN_KEEP_MS = 24 * 3_600_000;

/**
 * `tessera keys rotate`: a new signing key becomes current in the key file (data dir or
 * TESSERA_KEYS_FILE); running services pick it up within a second. Old public keys stay in
 * the JWKS until every token they signed has expired.
 */
export async function runKeysRotate(): Promise<void> {
  const config = loadConfig();
  if (config.keysJson !== undefined) {
    throw new CliError('TESSERA_KEYS is read-only: add a new key to that key set and redeploy');
  }
  const ring = await openKeyRing(config);
  try {
    const { kid } = await ring.rotate();
    printLine(`new signing key ${kid}; previous public keys stay in the JWKS until their tokens expire`);
  } finally {
    ring.close();
  }
}

/** `tessera keys list`: kid, alg, state (current, retiring, revoked; pending), created. */
export async function runKeysList(): Promise<void> {
  const config = loadConfig();
  const ring = await openKeyRing(config);
  try {
    for (const key of await ring.list()) {
      printLine([key.kid, key.alg, key.state, new Date(key.createdAt).toISOString()].join('\t'));
    }
  } finally {
    ring.close();
  }
}

/**
 * `tessera keys revoke <kid>` (docs/security.md "Key compromise"): the key leaves the key file's
 * JWKS (running services re-read the file within a second), a new current key is made if it
 * was the current one, and with Redis a `k=k` revocation-feed entry tells every guard to refuse
 * every token the key signed, cached or not.
 */
export async function runKeysRevoke(kid: string): Promise<void> {
  const config = loadConfig();
  if (config.keysJson !== undefined) {
    throw new CliError('TESSERA_KEYS is read-only: remove the key from that key set and redeploy');
  }
  const ring = await openKeyRing(config);
  let revoked: Awaited<ReturnType<typeof ring.revoke>>;
  try {
    revoked = await ring.revoke(kid);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : 'could not revoke the key');
  } finally {
    ring.close();
  }
  printLine(
    revoked.replacedBy === undefined
      ? `revoked key ${kid}; it has left the JWKS`
      : `revoked key ${kid}; it has left the JWKS; new signing key ${revoked.replacedBy}`,
  );
  if (!config.redis) return;
  const { store } = await openSessionStore(config);
  try {
    const now = Date.now();
    const keep = Math.max(config.accessTtlMs, KEY_REVOCATION_MIN_KEEP_MS) + CLOCK_TOLERANCE_SECONDS * 1000;
    await store.announceKeyRevocation(kid, now + keep, now);
    printLine('announced on the revocation feed: every guard refuses its tokens');
  } catch {
    throw new CliError(
      'the key is revoked in the key file, but Redis cannot be reached: guards still accept its cached tokens; run the command again',
    );
  } finally {
    await store.close();
  }
}
