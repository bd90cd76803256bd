import { randomBytes } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Usernames are compared case-insensitively after Unicode NFKC normalisation. */
export function normalizeUsername(input: string): string {
  return input.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}

/** A normalised username is 1..128 characters, no whitespace or control characters. */
export function isValidUsername(username: string): boolean {
  return username.length >= 1 && username.length <= 128 && !/[\s\p{Cc}\p{Cf}]/u.test(username);
}

/** New user id: `u` + 20 random base32 characters (100 bits); never contains `.`. */
export function generateUserId(): string {
  const bytes = randomBytes(20);
  let id = 'u';
  for (const byte of bytes) id += BASE32[byte & 31];
  return id;
}
