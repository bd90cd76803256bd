import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { calculateJwkThumbprint, type JWK } from 'jose';
import {
  importSigningKey,
  inferSigningAlg,
  keyFitsAlg,
  type PrivateSigningJwk,
  type PublicJwk,
  type SigningKeyHandle,
  toPublicJwk,
} from './signing-key.ts';

/**
 * The key file (`<data dir>/keys.json`, `TESSERA_KEYS_FILE`, or `TESSERA_KEYS` inline):
 * a private JWKS whose entries carry Tessera's key times. Documented in docs/operations-keys.md.
 */
export interface KeyTimes {
  /** When the key was generated (ms since the epoch). */
  createdAt: number;
  /** From then on it may be the signing key (ms). It is public in the JWKS from creation on. */
  activatesAt: number;
  /** From then on it no longer signs; it stays public until `retiredAt` + max token lifetime + tolerance. */
  retiredAt?: number;
  /** Revoked (`tessera keys revoke`, compromised): never signs, never published, its tokens refused. */
  revokedAt?: number;
}

export type StoredSigningKey = PrivateSigningJwk & { tessera: KeyTimes };

export interface KeyFile {
  keys: StoredSigningKey[];
}

/** A parsed key: the stored form, its public JWK and its imported private key. */
export interface LoadedKey {
  stored: StoredSigningKey;
  publicJwk: PublicJwk;
  handle: SigningKeyHandle;
  /** Position in the file; breaks `createdAt` ties (later = newer). */
  order: number;
}

const PRIVATE_MEMBER = 'd';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readTimes(value: unknown, source: string): KeyTimes {
  if (value === undefined) return { createdAt: 0, activatesAt: 0 };
  const bad = () =>
    new TypeError(`${source}: "tessera" must hold numeric createdAt/activatesAt/retiredAt/revokedAt`);
  if (!isRecord(value)) throw bad();
  const { createdAt = 0, activatesAt = 0, retiredAt, revokedAt } = value;
  if (!Number.isFinite(createdAt) || !Number.isFinite(activatesAt)) throw bad();
  if (retiredAt !== undefined && !Number.isFinite(retiredAt)) throw bad();
  if (revokedAt !== undefined && !Number.isFinite(revokedAt)) throw bad();
  const times: KeyTimes = { createdAt: createdAt as number, activatesAt: activatesAt as number };
  if (retiredAt !== undefined) times.retiredAt = retiredAt as number;
  if (revokedAt !== undefined) times.revokedAt = revokedAt as number;
  return times;
}

/**
 * Parses a private JWKS (key file format). `source` names where it came from in error messages
 * (never the content). Throws `TypeError` for anything malformed.
 */
export async function parseKeySet(text: string, source: string): Promise<LoadedKey[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TypeError(`${source}: not valid JSON`);
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.keys) || parsed.keys.length === 0) {
    throw new TypeError(`${source}: expected a JWKS {"keys": [...]} with at least one private key`);
  }
  const seen = new Set<string>();
  const loaded: LoadedKey[] = [];
  for (const [order, entry] of parsed.keys.entries()) {
    const where = `${source}: key #${order + 1}`;
    if (!isRecord(entry) || typeof entry.kty !== 'string') throw new TypeError(`${where} is not a JWK`);
    const jwk = entry as JWK & { kty: string };
    if (typeof jwk[PRIVATE_MEMBER] !== 'string') throw new TypeError(`${where} has no private part`);
    const alg = inferSigningAlg(jwk);
    if (alg === null || !keyFitsAlg(jwk, alg)) {
      throw new TypeError(`${where}: only EdDSA (Ed25519), ES256 (P-256) and RS256 keys are supported`);
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') throw new TypeError(`${where}: "use" must be "sig"`);
    const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : await calculateJwkThumbprint(jwk);
    if (seen.has(kid)) throw new TypeError(`${where}: duplicate kid`);
    seen.add(kid);
    const { tessera, ...rest } = entry;
    const stored: StoredSigningKey = {
      ...(rest as JWK),
      kty: jwk.kty,
      d: jwk[PRIVATE_MEMBER],
      kid,
      alg,
      use: 'sig',
      tessera: readTimes(tessera, where),
    };
    let handle: SigningKeyHandle;
    try {
      handle = await importSigningKey(stored);
    } catch {
      throw new TypeError(`${where}: the key material is invalid for ${alg}`);
    }
    loaded.push({ stored, publicJwk: toPublicJwk(stored), handle, order });
  }
  return loaded;
}

/** Identity of the file's current version: changes on every write or rename. */
export async function statKeyFile(path: string): Promise<string | null> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.mtimeNs}:${info.ino}:${info.size}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Reads the file and the identity of the version read (one open handle: both match). `null` when missing. */
export async function readKeyFile(path: string): Promise<{ stamp: string; text: string } | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const info = await handle.stat({ bigint: true });
    const text = await handle.readFile('utf8');
    return { stamp: `${info.mtimeNs}:${info.ino}:${info.size}`, text };
  } finally {
    await handle.close();
  }
}

/**
 * Writes the key file atomically: a 0600 temp file beside it, fsync, then rename (replace) or
 * link (`exclusive`: only when no file exists yet). Returns `false` when `exclusive` lost the race.
 */
export async function writeKeyFile(path: string, file: KeyFile, exclusive = false): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (!exclusive) {
      await rename(temp, path);
      return true;
    }
    try {
      await link(temp, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Runs `work` while holding `<path>.lock` (created exclusively), so two processes rotating at
 * once do not lose a key. A lock older than `staleMs` is taken over (its holder died).
 */
export async function withKeyFileLock<T>(path: string, work: () => Promise<T>, staleMs = 30_000): Promise<T> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const lock = await open(lockPath, 'wx', 0o600);
      await lock.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await stat(lockPath).catch(() => null);
      if (info && Date.now() - info.mtimeMs > staleMs) await unlink(lockPath).catch(() => undefined);
      else if (Date.now() > deadline) throw new Error(`key file is locked: ${lockPath}`);
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
