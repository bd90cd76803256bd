/**
 * Stream ids (`<ms>-<seq>`, or `<ms>`, or `0`), as Redis Streams and the memory log use them.
 * The one place ids are parsed and compared.
 */

/** A stream id as a comparable pair; `null` when malformed. */
export function parseStreamId(id: string): [number, number] | null {
  const match = typeof id === 'string' ? /^(\d{1,16})(?:-(\d{1,16}))?$/.exec(id) : null;
  if (!match) return null;
  return [Number(match[1]), Number(match[2] ?? 0)];
}

/** Compares two parsed ids: negative, 0 or positive. */
export function compareStreamIdPairs(a: [number, number], b: [number, number]): number {
  return Math.sign(a[0] - b[0] || a[1] - b[1]);
}

/** Compares two stream ids (a malformed id counts as `0`): negative, 0 or positive. */
export function compareStreamIds(a: string, b: string): number {
  return compareStreamIdPairs(parseStreamId(a) ?? [0, 0], parseStreamId(b) ?? [0, 0]);
}
