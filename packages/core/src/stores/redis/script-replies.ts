/** Narrowing helpers for Lua script replies (arrays of strings / integers / nested arrays). */

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asStrings(value: unknown): string[] {
  return asArray(value).map(String);
}

/** A list of revocation entries, each a flat field/value list. */
export function asEntries(value: unknown): string[][] {
  return asArray(value).map(asStrings);
}

/** `HGETALL` as an object (ioredis `hgetall`) to the flat form scripts return. */
export function flattenHash(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat();
}
