import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserExistsError } from '@tessera/core/internal';
import { withFileLock } from './file-lock.ts';
import type { UserRecord, UserStore } from './types.ts';

interface UsersFile {
  version: 1;
  users: UserRecord[];
}

/**
 * Users in one JSON file (`{ version: 1, users: [...] }`, mode 0600). Writes hold a lock file
 * and replace the file atomically (temp file, fsync, rename), so a crash or two CLI calls at
 * once never leave it half-written. Reads re-load the file whenever its mtime or size changes,
 * so users added by the CLI are seen by a running service at once.
 */
export function createFileUserStore(path: string): UserStore {
  let cache: { key: string; users: UserRecord[] } | null = null;

  async function load(): Promise<UserRecord[]> {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!info) return [];
    const key = `${info.mtimeMs}:${info.size}:${info.ino}`;
    if (cache?.key === key) return cache.users;
    const parsed = JSON.parse(await readFile(path, 'utf8')) as UsersFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.users))
      throw new Error(`${path}: not a Tessera users file`);
    cache = { key, users: parsed.users };
    return parsed.users;
  }

  async function write(users: UserRecord[]): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify({ version: 1, users } satisfies UsersFile, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    // Make the rename itself durable (the directory entry), so a crash cannot undo it.
    const directory = await open(dirname(path), 'r');
    await directory.sync().catch(() => {});
    await directory.close();
    cache = null;
  }

  async function change(mutate: (users: UserRecord[]) => UserRecord[]): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await withFileLock(path, async () => {
      cache = null;
      await write(mutate([...(await load())]));
    });
  }

  return {
    async findByUsername(username) {
      return (await load()).find((u) => u.username === username) ?? null;
    },
    async findById(id) {
      return (await load()).find((u) => u.id === id) ?? null;
    },
    async create(user) {
      await change((users) => {
        if (users.some((u) => u.username === user.username)) {
          throw new UserExistsError('A user with this username exists');
        }
        return [...users, user];
      });
      return user;
    },
    async updatePasswordHash(id, passwordHash) {
      await change((users) => users.map((u) => (u.id === id ? { ...u, passwordHash } : u)));
    },
    async close() {},
  };
}
