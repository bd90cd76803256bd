import { InvalidRequestError } from '@tessera/core/internal';
import { createFileUserStore } from './file-user-store.ts';
import { createMemoryUserStore } from './memory-user-store.ts';
import {
  DEFAULT_PASSWORD_PARAMS,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  needsRehash,
  type PasswordParams,
  verifyPassword,
} from './password.ts';
import { createPostgresUserStore } from './postgres-user-store.ts';
import type { UserRecord, UserStore } from './types.ts';
import { generateUserId, isValidUsername, normalizeUsername } from './username.ts';

/** Opens the users store named by `TESSERA_USERS` (`file:PATH`, `memory`, `postgres://…`). */
export async function openUserStore(spec: string): Promise<UserStore> {
  if (spec === 'memory') return createMemoryUserStore();
  if (spec.startsWith('file:')) return createFileUserStore(spec.slice(5));
  if (/^postgres(ql)?:\/\//.test(spec)) return createPostgresUserStore(spec);
  throw new TypeError('TESSERA_USERS: expected file:PATH, memory or a postgres:// URL');
}

const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface Users {
  readonly store: UserStore;
  /** Validates, hashes and stores a new user. Throws `InvalidRequestError`, `UserExistsError`. */
  addUser(username: string, password: string, roles: string[]): Promise<UserRecord>;
  /**
   * The user when the password matches, else `null`. Unknown usernames verify a dummy hash so
   * both failures take the same time. Rehashes on success when the parameters changed.
   */
  checkPassword(username: string, password: string): Promise<UserRecord | null>;
  findByUsername(username: string): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  /** Computes the dummy hash now, so the first unknown-user login is not slower than the others. */
  warmUp(): Promise<void>;
}

/** Validates a new user's fields; returns the normalised username. */
export function validateNewUser(username: string, password: string, roles: string[]): string {
  const name = normalizeUsername(username);
  if (!isValidUsername(name)) {
    throw new InvalidRequestError(
      'username must be 1 to 128 characters without spaces or control characters',
    );
  }
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new InvalidRequestError(
      `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long`,
    );
  }
  for (const role of roles) {
    if (!ROLE.test(role)) throw new InvalidRequestError('roles must match [A-Za-z0-9_.:-]{1,64}');
  }
  return name;
}

export function createUsers(store: UserStore, params: PasswordParams = DEFAULT_PASSWORD_PARAMS): Users {
  let dummyHash: Promise<string> | null = null;
  const dummy = () => {
    dummyHash ??= hashPassword(`dummy-${Math.random()}`, params);
    return dummyHash;
  };
  return {
    store,
    async addUser(username, password, roles) {
      const name = validateNewUser(username, password, roles);
      const user: UserRecord = {
        id: generateUserId(),
        username: name,
        passwordHash: await hashPassword(password, params),
        roles: [...new Set(roles)],
        createdAt: new Date().toISOString(),
      };
      return store.create(user);
    },
    async checkPassword(username, password) {
      const name = normalizeUsername(username);
      const user = isValidUsername(name) ? await store.findByUsername(name) : null;
      if (!user) {
        await verifyPassword(await dummy(), password);
        return null;
      }
      if (!(await verifyPassword(user.passwordHash, password))) return null;
      if (needsRehash(user.passwordHash, params)) {
        await store.updatePasswordHash(user.id, await hashPassword(password, params)).catch(() => {});
      }
      return user;
    },
    findByUsername: (username) => store.findByUsername(normalizeUsername(username)),
    findById: (id) => store.findById(id),
    async warmUp() {
      await dummy();
    },
  };
}
