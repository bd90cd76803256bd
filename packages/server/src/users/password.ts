import { hash, parseOptions, verify } from '@node-rs/argon2';

/**
 * argon2id parameters: OWASP's minimum (m=19 MiB, t=2, p=1).
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
 */
export interface PasswordParams {
  /** KiB. @default 19456 */
  memoryCost: number;
  /** Passes. @default 2 */
  timeCost: number;
  /** Lanes. @default 1 */
  parallelism: number;
}

export const DEFAULT_PASSWORD_PARAMS: PasswordParams = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** `Algorithm.Argon2id` (a const enum in the typings, so spelled out). */
const ARGON2ID = 2;

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** Hashes a password with argon2id; returns the PHC string. */
export function hashPassword(
  password: string,
  params: PasswordParams = DEFAULT_PASSWORD_PARAMS,
): Promise<string> {
  return hash(password, { ...params, algorithm: ARGON2ID });
}

/** Checks a password against a PHC string; `false` for a malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** `true` when the hash was made with other parameters (or another algorithm) than `params`. */
export function needsRehash(passwordHash: string, params: PasswordParams = DEFAULT_PASSWORD_PARAMS): boolean {
  try {
    const used = parseOptions(passwordHash);
    return (
      used.algorithm !== ARGON2ID ||
      used.memoryCost !== params.memoryCost ||
      used.timeCost !== params.timeCost ||
      used.parallelism !== params.parallelism
    );
  } catch {
    return true;
  }
}
