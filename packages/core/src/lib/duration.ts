const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `250ms`, `30s`, `10m`, `24h`, `30d` (or a bare number of milliseconds) into
 * milliseconds. Returns `null` for anything else.
 */
export function parseDuration(input: string): number | null {
  const match = /^\s*(\d{1,12})(ms|s|m|h|d)?\s*$/.exec(input);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = UNITS[match[2] ?? 'ms'];
  if (unit === undefined || !Number.isSafeInteger(value * unit)) return null;
  return value * unit;
}

/** Formats milliseconds as the largest exact unit, e.g. `600000` → `10m`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
