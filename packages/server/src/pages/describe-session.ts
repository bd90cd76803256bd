import Bowser from 'bowser';

/** "Chrome 131 on Linux", "Safari 17 on iOS 17.5"; "Unknown browser" when the agent says nothing useful. */
export function describeUserAgent(userAgent: string): string {
  if (userAgent.trim() === '') return 'Unknown browser';
  const { browser, os } = Bowser.parse(userAgent);
  const major = browser.version?.split('.')[0];
  const name = browser.name ? `${browser.name}${major ? ` ${major}` : ''}` : undefined;
  // Windows and macOS have version names ("10", "Sonoma"); phones have numbers ("17.5").
  const osVersion = os.versionName ?? (os.name === 'iOS' || os.name === 'Android' ? os.version : undefined);
  const system = os.name ? `${os.name}${osVersion ? ` ${osVersion}` : ''}` : undefined;
  if (name && system) return `${name} on ${system}`;
  if (name ?? system) return (name ?? system) as string;
  // Not a browser (curl, a service): its product token is the best name there is.
  return userAgent.split(/[\s/;(]/)[0]?.slice(0, 40) || 'Unknown browser';
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "just now", "3 minutes ago", "yesterday" for a time `ms` before `now`. */
export function timeAgo(ms: number, now: number): string {
  const elapsed = Math.max(0, now - ms);
  for (const [unit, size] of UNITS) {
    if (elapsed >= size) return relative.format(-Math.floor(elapsed / size), unit);
  }
  return 'just now';
}

/** "1 December 2026, 09:30 UTC": the full time, for the `title` of a relative one. */
export function fullTime(ms: number): string {
  return `${new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(ms)} UTC`;
}
