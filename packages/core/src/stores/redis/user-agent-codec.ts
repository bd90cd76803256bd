/**
 * The lossless compact form of the `ua` field (docs/redis-layout.md, "User-Agent encoding").
 * A browser's User-Agent header is 70–140 bytes, longer than Redis's default
 * `hash-max-listpack-value` (64), which would turn the whole session hash into a hashtable
 * (about 3× the memory). The common tokens of browser User-Agents are replaced by single
 * control bytes, which an HTTP header value can never contain (RFC 9110 §5.5), so a real
 * browser's header becomes about 10 bytes.
 *
 * - a value with no byte of `[\x00-\x08\x0a-\x1f\x7f]` is stored with every token of
 *   `UA_TOKENS` replaced by its code (`UA_CODES`: `\x01`–`\x08`, `\x0b`, `\x0c`, `\x0e`–`\x1f`), longest token first at each position;
 * - any other value (the core library takes arbitrary strings) is stored verbatim behind a
 *   leading `\x7f`.
 *
 * Decoding: a leading `\x7f` → the rest as is; otherwise every code byte → its token. A value
 * written before this encoding (a raw header, no control bytes) decodes to itself.
 *
 * The table is part of the stored format: never change or reorder an entry (a stored value
 * would decode differently); new tokens may only take codes still unused.
 */
export const UA_TOKENS: readonly string[] = [
  'Mozilla/5.0 (',
  'Windows NT 10.0; Win64; x64',
  'Macintosh; Intel Mac OS X 10_15_7',
  'X11; Linux x86_64',
  'Linux; Android 10; K',
  'Linux; Android ',
  'iPhone; CPU iPhone OS ',
  ' like Mac OS X',
  ') AppleWebKit/537.36 (KHTML, like Gecko) ',
  ') AppleWebKit/605.1.15 (KHTML, like Gecko) ',
  ') Gecko/20100101 Firefox/',
  '; rv:',
  'Chrome/',
  '.0.0.0',
  ' Safari/537.36',
  ' Safari/605.1.15',
  ' Safari/604.1',
  'Version/',
  ' Mobile/15E148',
  ' Mobile',
  ' Edg/',
  'iPad; CPU OS ',
  'CriOS/',
  ' OPR/',
  'Windows NT ',
  'SamsungBrowser/',
  'Firefox/',
  ') AppleWebKit/',
];

/** Code bytes, in `UA_TOKENS` order: `\x01`–`\x08`, `\x0b`–`\x0c`, `\x0e`–`\x1f` (28 codes). */
export const UA_CODES: readonly string[] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 11, 12],
  ...Array.from({ length: 18 }, (_, i) => 14 + i),
].map((c) => String.fromCharCode(c));

/** The marker of a verbatim value (one that contains a control byte). */
const VERBATIM = '\x7f';
// biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const byToken = new Map<string, string>();
/** Token by code byte (index 0–31), `undefined` for a byte that is not a code. */
const byCode: Array<string | undefined> = new Array(32).fill(undefined);
for (let i = 0; i < UA_TOKENS.length; i++) {
  byToken.set(UA_TOKENS[i] as string, UA_CODES[i] as string);
  byCode[(UA_CODES[i] as string).charCodeAt(0)] = UA_TOKENS[i];
}
const TOKEN = new RegExp(
  [...UA_TOKENS]
    .sort((a, b) => b.length - a.length)
    .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|'),
  'g',
);

/** The stored form of a User-Agent (any string round-trips through `decodeUserAgent`). */
export function encodeUserAgent(userAgent: string): string {
  if (userAgent === '') return '';
  if (CONTROL.test(userAgent)) return VERBATIM + userAgent;
  return userAgent.replace(TOKEN, (token) => byToken.get(token) as string);
}

/** The User-Agent a stored `ua` value stands for (a loop, not a regex: it runs on every read). */
export function decodeUserAgent(stored: string): string {
  if (stored.charCodeAt(0) === 0x7f) return stored.slice(1);
  let out = '';
  let start = 0;
  for (let i = 0; i < stored.length; i++) {
    const c = stored.charCodeAt(i);
    if (c >= 0x20) continue;
    const token = byCode[c];
    if (token === undefined) continue;
    out += stored.slice(start, i) + token;
    start = i + 1;
  }
  return start === 0 ? stored : out + stored.slice(start);
}
