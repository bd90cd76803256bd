import { isTesseraError } from '@tessera/core';
import { loadConfig } from '../config/env-config.ts';
import { createUsers, openUserStore } from '../users/user-service.ts';
import { CliError, printLine, readStdin } from './io.ts';

/** `tessera user add <username> --roles a,b --password-stdin`: prints the new user id. */
export async function runUserAdd(username: string, roles: string[]): Promise<void> {
  const config = loadConfig();
  if (config.users === 'memory') {
    throw new CliError(
      'TESSERA_USERS=memory lives inside the running service: use POST /v1/admin/users instead',
    );
  }
  const password = await readStdin();
  const store = await openUserStore(config.users);
  try {
    const user = await createUsers(store).addUser(username, password, roles);
    printLine(user.id);
  } catch (error) {
    if (isTesseraError(error)) throw new CliError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}
