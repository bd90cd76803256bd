/** Compares two Redis stream ids (`<ms>-<seq>`, or `<ms>`, or `0`): negative, 0 or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  try {
    return dash < 0 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
  } catch {
    return [0n, 0n];
  }
}

/**
 * Reads `entries-added` (Redis ≥ 7.0: how many entries were ever appended) from `XINFO STREAM`'s
 * flat reply; 0 when the stream does not exist (the reply is an error or missing).
 */
export function readEntriesAdded(reply: unknown): number {
  if (!Array.isArray(reply)) return 0;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    if (String(reply[i]) === 'entries-added') return Number(reply[i + 1]) || 0;
  }
  return 0;
}
