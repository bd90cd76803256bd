import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_PASSWORD_PARAMS } from '@tessera/testkit/auth-service';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileUserStore } from './file-user-store.ts';
import { createMemoryUserStore } from './memory-user-store.ts';
import { DEFAULT_PASSWORD_PARAMS, hashPassword, needsRehash } from './password.ts';
import { createPostgresUserStore } from './postgres-user-store.ts';
import type { UserStore } from './types.ts';
import { createUsers } from './user-service.ts';
import { generateUserId } from './username.ts';

const PG_URL = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-users-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('DROP TABLE IF EXISTS tessera_users; DROP TABLE IF EXISTS tessera_migrations');
    return true;
  } catch (error) {
    console.warn(
      `postgres user store tests skipped: no PostgreSQL at ${PG_URL} (${(error as Error).message})`,
    );
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
const hasPostgres = await postgresReachable();

const stores: Array<[string, () => Promise<UserStore>, boolean]> = [
  ['memory', async () => createMemoryUserStore(), true],
  ['file', async () => createFileUserStore(join(dir, `${Math.random()}.json`)), true],
  ['postgres', async () => createPostgresUserStore(PG_URL), hasPostgres],
];

describe.each(stores)('%s users store', (_name, open, enabled) => {
  it.runIf(enabled)('adds, finds, refuses duplicates, checks passwords', async () => {
    const store = await open();
    try {
      const users = createUsers(store, TEST_PASSWORD_PARAMS);
      const suffix = Math.random().toString(36).slice(2, 8);
      const user = await users.addUser(`Ａlice-${suffix}`, 'correct horse', ['admin']);
      expect(user.id).toMatch(/^u[a-z2-7]{20}$/);
      expect(user.username).toBe(`alice-${suffix}`); // NFKC folds the full-width letter, then lower case
      expect(user.passwordHash).toMatch(/^\$argon2id\$/);
      await expect(users.addUser(`ALICE-${suffix}`, 'another pass', [])).rejects.toMatchObject({
        code: 'user_exists',
      });
      expect((await users.checkPassword(`alice-${suffix}`, 'correct horse'))?.id).toBe(user.id);
      expect(await users.checkPassword(`alice-${suffix}`, 'wrong horse')).toBeNull();
      expect(await users.checkPassword(`nobody-${suffix}`, 'correct horse')).toBeNull();
      expect((await users.findById(user.id))?.roles).toEqual(['admin']);
    } finally {
      await store.close();
    }
  });

  it.runIf(enabled)('rehashes on login when the argon2 parameters changed', async () => {
    const store = await open();
    try {
      const weak = createUsers(store, TEST_PASSWORD_PARAMS);
      const name = `rehash-${Math.random().toString(36).slice(2, 8)}`;
      const user = await weak.addUser(name, 'correct horse', []);
      const stronger = { ...TEST_PASSWORD_PARAMS, timeCost: 2 };
      expect(needsRehash(user.passwordHash, stronger)).toBe(true);
      await createUsers(store, stronger).checkPassword(name, 'correct horse');
      const after = await store.findById(user.id);
      expect(needsRehash(after?.passwordHash ?? '', stronger)).toBe(false);
    } finally {
      await store.close();
    }
  });
});

describe('password and username rules', () => {
  it('enforces 8..1024 characters and sane usernames', async () => {
    const users = createUsers(createMemoryUserStore(), TEST_PASSWORD_PARAMS);
    await expect(users.addUser('bob', 'short', [])).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(users.addUser('bob', 'x'.repeat(1025), [])).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(users.addUser('bo b', 'long enough', [])).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(users.addUser('bob', 'long enough', ['bad role'])).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect((await users.addUser('bob', 'x'.repeat(1024), [])).username).toBe('bob');
  });

  it('defaults to OWASP argon2id parameters', async () => {
    expect(DEFAULT_PASSWORD_PARAMS).toEqual({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(needsRehash(hash)).toBe(false);
  });

  it('generates ids without dots', () => {
    for (let i = 0; i < 100; i++) expect(generateUserId()).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});

describe('file users store', () => {
  it('sees users written by another writer at once, and many concurrent writers lose nothing', async () => {
    const path = join(dir, 'shared.json');
    const reader = createUsers(createFileUserStore(path), TEST_PASSWORD_PARAMS);
    const writers = Array.from({ length: 8 }, () =>
      createUsers(createFileUserStore(path), TEST_PASSWORD_PARAMS),
    );
    expect(await reader.findByUsername('w0')).toBeNull();
    await Promise.all(writers.map((w, i) => w.addUser(`w${i}`, 'correct horse', [])));
    for (let i = 0; i < 8; i++) expect(await reader.findByUsername(`w${i}`)).not.toBeNull();
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file.users).toHaveLength(8);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
