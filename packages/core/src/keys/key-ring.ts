import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey, type LocalJWKSet } from 'jose';
import { type Clock, systemClock } from '../lib/clock.ts';
import { CLOCK_TOLERANCE_SECONDS } from '../tokens/access-token.ts';
import {
  type KeyFile,
  type LoadedKey,
  parseKeySet,
  readKeyFile,
  type StoredSigningKey,
  statKeyFile,
  withKeyFileLock,
  writeKeyFile,
} from './key-file.ts';
import {
  generateSigningKey,
  isSigningAlg,
  type PublicJwk,
  type SigningAlg,
  type SigningKeyHandle,
} from './signing-key.ts';

export type { KeyFile, KeyTimes, StoredSigningKey } from './key-file.ts';
export {
  generateSigningKey,
  type PrivateSigningJwk,
  type PublicJwk,
  type SigningAlg,
  type SigningKeyHandle,
} from './signing-key.ts';

export interface KeyRingOptions {
  /** Algorithm of generated keys and of the signing key. */
  alg: SigningAlg;
  /** Key set kept in `${dataDir}/keys.json` (0600, dir 0700), generated on first start. */
  dataDir?: string;
  /** A private JWKS JSON string (env `TESSERA_KEYS`), read-only; wins over `keysFile` and `dataDir`. */
  keysJson?: string;
  /** Path of a private JWKS file (env `TESSERA_KEYS_FILE`), same format as keys.json; wins over `dataDir`. */
  keysFile?: string;
  /** Longest access-token lifetime (ms): retired public keys stay published this long (+ tolerance). */
  maxTokenLifetimeMs: number;
  clock?: Clock;
}

export interface KeyRing {
  /** The current signing key; picks up a rotation written to the key file by another process. */
  signingKey(): Promise<SigningKeyHandle>;
  /** Public parts only: the current key, pending keys and retired keys whose tokens may still live. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** jose key resolver over the same public keys (a token without a known `kid` fails). */
  verificationKeys(): JWTVerifyGetKey;
  /** New key published at once, signing after `activateInMs` (default 0); the old one is retired. */
  rotate(options?: { activateInMs?: number }): Promise<{ kid: string }>;
  /** One line per key of the set, newest first (`tessera keys list`). */
  list(): Promise<KeyInfo[]>;
  /**
   * Emergency removal of a compromised key (`tessera keys revoke`): it leaves the JWKS and
   * verification at once (other instances: within a second, on their next key-file check);
   * if it was the signing key, a new key is made and becomes current. `replacedBy` = that key.
   * @throws Error when no key of the set has this `kid`, or the set is read-only (TESSERA_KEYS).
   */
  revoke(kid: string): Promise<{ kid: string; alg: SigningAlg; replacedBy: string | undefined }>;
  close(): void;
}

/** A key as `tessera keys list` shows it. `pending`: published, not yet signing (delayed activation). */
export interface KeyInfo {
  kid: string;
  alg: SigningAlg;
  state: 'current' | 'retiring' | 'revoked' | 'pending';
  createdAt: number;
}

/** A key file is checked for changes at most this often (ms, by the ring's clock). */
export const KEY_FILE_CHECK_INTERVAL_MS = 1000;

type KeySource = { kind: 'json' } | { kind: 'file'; path: string; managed: boolean };

function byNewest(a: LoadedKey, b: LoadedKey): number {
  return b.stored.tessera.createdAt - a.stored.tessera.createdAt || b.order - a.order;
}

/** The newest activated, non-retired key of `alg`, or `null`. */
function selectSigningKey(keys: LoadedKey[], alg: SigningAlg, now: number): LoadedKey | null {
  const usable = keys.filter(({ stored }) => {
    const { activatesAt, retiredAt } = stored.tessera;
    return (
      stored.alg === alg &&
      stored.tessera.revokedAt === undefined &&
      activatesAt <= now &&
      (retiredAt === undefined || retiredAt > now)
    );
  });
  return usable.sort(byNewest)[0] ?? null;
}

function pickSource(options: KeyRingOptions): KeySource {
  if (options.keysJson !== undefined && options.keysFile !== undefined) {
    throw new TypeError('give keysJson (TESSERA_KEYS) or keysFile (TESSERA_KEYS_FILE), not both');
  }
  if (options.keysJson !== undefined) return { kind: 'json' };
  if (options.keysFile !== undefined) return { kind: 'file', path: options.keysFile, managed: false };
  if (options.dataDir !== undefined)
    return { kind: 'file', path: join(options.dataDir, 'keys.json'), managed: true };
  throw new TypeError('a key ring needs dataDir, keysJson or keysFile');
}

class TesseraKeyRing implements KeyRing {
  private stamp: string | null = null;
  private lastCheck: number;
  private reloading: Promise<void> | null = null;
  private rotating: Promise<unknown> = Promise.resolve();
  private jwkSet: { signature: string; resolve: LocalJWKSet } | null = null;
  private closed = false;

  constructor(
    private keys: LoadedKey[],
    private readonly source: KeySource,
    private readonly options: Required<Pick<KeyRingOptions, 'alg' | 'maxTokenLifetimeMs' | 'clock'>>,
    stamp: string | null,
  ) {
    this.stamp = stamp;
    this.lastCheck = options.clock.now();
  }

  async signingKey(): Promise<SigningKeyHandle> {
    await this.checkKeyFile();
    const now = this.options.clock.now();
    const current =
      selectSigningKey(this.keys, this.options.alg, now) ??
      // Every key of the algorithm retired without a successor (edited by hand): keep the newest signing.
      this.keys
        .filter(
          (key) =>
            key.stored.alg === this.options.alg &&
            key.stored.tessera.activatesAt <= now &&
            key.stored.tessera.revokedAt === undefined,
        )
        .sort(byNewest)[0];
    if (current === undefined) throw new Error(`no active ${this.options.alg} signing key`);
    return current.handle;
  }

  async jwks(): Promise<{ keys: PublicJwk[] }> {
    await this.checkKeyFile();
    return { keys: this.publishedKeys().map((key) => ({ ...key.publicJwk })) };
  }

  verificationKeys(): JWTVerifyGetKey {
    return async (header, token) => {
      if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey();
      await this.checkKeyFile();
      // Only the algorithms of keys actually in the set, and only the kid's own algorithm.
      const key = this.publishedKeys().find((k) => k.stored.kid === header.kid);
      if (key === undefined || key.stored.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
      return this.localJwkSet()(header, token);
    };
  }

  rotate(options: { activateInMs?: number } = {}): Promise<{ kid: string }> {
    const activateInMs = options.activateInMs ?? 0;
    if (!Number.isFinite(activateInMs) || activateInMs < 0) {
      return Promise.reject(new TypeError('activateInMs must be a number >= 0'));
    }
    const source = this.source;
    if (source.kind !== 'file') {
      return Promise.reject(
        new Error('a key set given as JSON (TESSERA_KEYS) is read-only: rotate it at its source'),
      );
    }
    return this.rotateLocked(source.path, activateInMs, false);
  }

  async list(): Promise<KeyInfo[]> {
    await this.checkKeyFile();
    const now = this.options.clock.now();
    const current = selectSigningKey(this.keys, this.options.alg, now)?.stored.kid;
    return [...this.keys].sort(byNewest).map(({ stored }) => {
      const { createdAt, activatesAt, revokedAt } = stored.tessera;
      let state: KeyInfo['state'] = 'retiring';
      if (revokedAt !== undefined) state = 'revoked';
      else if (stored.kid === current) state = 'current';
      else if (activatesAt > now) state = 'pending';
      return { kid: stored.kid, alg: stored.alg, state, createdAt };
    });
  }

  revoke(kid: string): Promise<{ kid: string; alg: SigningAlg; replacedBy: string | undefined }> {
    const source = this.source;
    if (source.kind !== 'file') {
      return Promise.reject(
        new Error('a key set given as JSON (TESSERA_KEYS) is read-only: remove the key at its source'),
      );
    }
    const run = this.rotating.then(() =>
      withKeyFileLock(source.path, () => this.revokeInFile(source.path, kid)),
    );
    this.rotating = run.catch(() => undefined);
    return run;
  }

  private async revokeInFile(
    path: string,
    kid: string,
  ): Promise<{ kid: string; alg: SigningAlg; replacedBy: string | undefined }> {
    const current = await readKeyFile(path);
    const keys = current === null ? [] : await parseKeySet(current.text, path);
    const target = keys.find((key) => key.stored.kid === kid);
    if (target === undefined) throw new Error(`no key with kid ${kid} in the key set`);
    const now = this.options.clock.now();
    const wasCurrent = selectSigningKey(keys, this.options.alg, now)?.stored.kid === kid;
    const kept: StoredSigningKey[] = keys.map(({ stored }) =>
      stored.kid === kid
        ? {
            ...stored,
            tessera: {
              ...stored.tessera,
              retiredAt: Math.min(stored.tessera.retiredAt ?? now, now),
              revokedAt: stored.tessera.revokedAt ?? now,
            },
          }
        : stored,
    );
    let replacedBy: string | undefined;
    if (
      wasCurrent ||
      selectSigningKey(
        keys.filter((k) => k.stored.kid !== kid),
        this.options.alg,
        now,
      ) === null
    ) {
      const fresh = await generateSigningKey(this.options.alg);
      kept.push({ ...fresh, tessera: { createdAt: now, activatesAt: now } });
      replacedBy = fresh.kid;
    }
    const file: KeyFile = { keys: kept };
    await writeKeyFile(path, file);
    this.keys = await parseKeySet(JSON.stringify(file), path);
    this.stamp = await statKeyFile(path);
    return { kid, alg: target.stored.alg, replacedBy };
  }

  /** With the data dir: a current key of the configured algorithm, made now unless another instance just did. */
  ensureCurrentKey(path: string): Promise<{ kid: string }> {
    return this.rotateLocked(path, 0, true);
  }

  private rotateLocked(path: string, activateInMs: number, onlyIfMissing: boolean): Promise<{ kid: string }> {
    const run = this.rotating.then(() =>
      withKeyFileLock(path, () => this.rotateFile(path, activateInMs, onlyIfMissing)),
    );
    this.rotating = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.closed = true;
  }

  /** Writes a new key into the file (read fresh under the lock), retires the others, prunes expired ones. */
  private async rotateFile(
    path: string,
    activateInMs: number,
    onlyIfMissing: boolean,
  ): Promise<{ kid: string }> {
    const current = await readKeyFile(path);
    const keys = current === null ? [] : await parseKeySet(current.text, path);
    const now = this.options.clock.now();
    const usable = onlyIfMissing ? selectSigningKey(keys, this.options.alg, now) : null;
    if (usable !== null && current !== null) {
      this.keys = keys;
      this.stamp = current.stamp;
      return { kid: usable.stored.kid };
    }
    const activatesAt = now + activateInMs;
    const fresh = await generateSigningKey(this.options.alg);
    const kept: StoredSigningKey[] = [];
    for (const { stored } of keys) {
      if (this.isExpired(stored, now)) continue;
      const retiredAt = Math.min(stored.tessera.retiredAt ?? Number.POSITIVE_INFINITY, activatesAt);
      kept.push({ ...stored, tessera: { ...stored.tessera, retiredAt } });
    }
    kept.push({ ...fresh, tessera: { createdAt: now, activatesAt } });
    const file: KeyFile = { keys: kept };
    await writeKeyFile(path, file);
    this.keys = await parseKeySet(JSON.stringify(file), path);
    this.stamp = await statKeyFile(path);
    return { kid: fresh.kid };
  }

  private isExpired(stored: StoredSigningKey, now: number): boolean {
    // A revoked key (retired when revoked) is never published; it stays in the file, listed as
    // revoked, as long as a retired key would.
    const { retiredAt } = stored.tessera;
    return (
      retiredAt !== undefined &&
      now >= retiredAt + this.options.maxTokenLifetimeMs + CLOCK_TOLERANCE_SECONDS * 1000
    );
  }

  private publishedKeys(): LoadedKey[] {
    const now = this.options.clock.now();
    return this.keys
      .filter((key) => key.stored.tessera.revokedAt === undefined && !this.isExpired(key.stored, now))
      .sort(byNewest);
  }

  private localJwkSet(): LocalJWKSet {
    const keys = this.publishedKeys();
    const signature = keys.map((key) => key.stored.kid).join(',');
    if (this.jwkSet?.signature !== signature) {
      const jwks = { keys: keys.map((key) => ({ ...key.publicJwk })) } as JSONWebKeySet;
      this.jwkSet = { signature, resolve: createLocalJWKSet(jwks) };
    }
    return this.jwkSet.resolve;
  }

  /** Re-reads the key file when it changed; checks at most once per KEY_FILE_CHECK_INTERVAL_MS. */
  private async checkKeyFile(): Promise<void> {
    if (this.source.kind !== 'file' || this.closed) return;
    const now = this.options.clock.now();
    if (now >= this.lastCheck && now - this.lastCheck < KEY_FILE_CHECK_INTERVAL_MS) return;
    this.lastCheck = now;
    this.reloading ??= this.reloadKeyFile(this.source.path).finally(() => {
      this.reloading = null;
    });
    await this.reloading;
  }

  private async reloadKeyFile(path: string): Promise<void> {
    try {
      if ((await statKeyFile(path)) === this.stamp) return;
      const read = await readKeyFile(path);
      if (read === null || read.stamp === this.stamp) return;
      const keys = await parseKeySet(read.text, path);
      // A file without a usable key is not applied: keep signing with what we have, retry later.
      if (selectSigningKey(keys, this.options.alg, this.options.clock.now()) === null) return;
      this.keys = keys;
      this.stamp = read.stamp;
    } catch {
      // Unreadable or malformed for now (being edited?): keep the current keys, retry on the next check.
    }
  }
}

/**
 * Loads (or, with `dataDir`, creates on first start) the signing key set.
 *
 * @example
 * ```ts
 * const ring = await loadKeyRing({ alg: 'EdDSA', dataDir: './.tessera', maxTokenLifetimeMs: 600_000 });
 * const key = await ring.signingKey();
 * ```
 * @throws TypeError for bad options or a malformed key set (messages never contain key material).
 * @see docs/operations-keys.md for the key file format and rotation.
 */
export async function loadKeyRing(options: KeyRingOptions): Promise<KeyRing> {
  if (!isSigningAlg(options.alg)) throw new TypeError('alg must be one of EdDSA, ES256, RS256');
  if (!Number.isFinite(options.maxTokenLifetimeMs) || options.maxTokenLifetimeMs < 0) {
    throw new TypeError('maxTokenLifetimeMs must be a number >= 0');
  }
  const settings = {
    alg: options.alg,
    maxTokenLifetimeMs: options.maxTokenLifetimeMs,
    clock: options.clock ?? systemClock,
  };
  const source = pickSource(options);
  if (source.kind === 'json') {
    const keys = await parseKeySet(options.keysJson ?? '', 'TESSERA_KEYS');
    if (selectSigningKey(keys, settings.alg, settings.clock.now()) === null) {
      throw new TypeError(
        `TESSERA_KEYS has no active ${settings.alg} key (the signing algorithm must match it)`,
      );
    }
    return new TesseraKeyRing(keys, source, settings, null);
  }
  if (source.managed && options.dataDir !== undefined) {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  }
  let read = await readKeyFile(source.path);
  if (read === null && source.managed) {
    const fresh = await generateSigningKey(settings.alg);
    const now = settings.clock.now();
    // Exclusive: when two instances start at once on one dir, the first key set written wins.
    await writeKeyFile(
      source.path,
      { keys: [{ ...fresh, tessera: { createdAt: now, activatesAt: now } }] },
      true,
    );
    read = await readKeyFile(source.path);
  }
  if (read === null) throw new TypeError(`key file not found: ${source.path}`);
  const keys = await parseKeySet(read.text, source.path);
  const ring = new TesseraKeyRing(keys, source, settings, read.stamp);
  if (selectSigningKey(keys, settings.alg, settings.clock.now()) === null) {
    if (!source.managed) {
      throw new TypeError(
        `${source.path} has no active ${settings.alg} key (the signing algorithm must match it)`,
      );
    }
    // The configured algorithm changed since the key set was made: rotate to a key of the new one.
    await ring.ensureCurrentKey(source.path);
  }
  return ring;
}
