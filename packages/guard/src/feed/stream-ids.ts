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

/** Reads `XINFO STREAM`'s flat reply into the two ids a feed needs; `null` when the stream is missing. */
export function readStreamInfo(reply: unknown): { lastGeneratedId: string; maxDeletedId: string } | null {
  if (!Array.isArray(reply)) return null;
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  const text = (name: string): string => {
    const value = fields.get(name);
    return typeof value === 'string' ? value : '0-0';
  };
  return { lastGeneratedId: text('last-generated-id'), maxDeletedId: text('max-deleted-entry-id') };
}
