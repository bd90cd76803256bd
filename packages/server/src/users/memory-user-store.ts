import { UserExistsError } from '@tessera/core/internal';
import type { UserRecord, UserStore } from './types.ts';

/** Users kept in this process only (tests, throwaway setups). */
export function createMemoryUserStore(): UserStore {
  const byName = new Map<string, UserRecord>();
  return {
    async findByUsername(username) {
      return byName.get(username) ?? null;
    },
    async findById(id) {
      for (const user of byName.values()) if (user.id === id) return user;
      return null;
    },
    async create(user) {
      if (byName.has(user.username)) throw new UserExistsError('A user with this username exists');
      byName.set(user.username, { ...user });
      return user;
    },
    async updatePasswordHash(id, passwordHash) {
      for (const user of byName.values()) if (user.id === id) user.passwordHash = passwordHash;
    },
    async close() {},
  };
}
