import { createHash } from 'node:crypto';

/**
 * Every secret this test process handed to or got from the services (passwords, tokens,
 * cookie values, the admin token): no log line and no error body may contain one, nor the
 * SHA-256 of one (what the store keeps).
 */
const secrets = new Set<string>();

/** Records a secret and the forms it could leak in (its last token segment, its hashes). */
export function recordSecret(value: string): void {
  if (value.length < 8) return;
  secrets.add(value);
  const last = value.split('.').at(-1) ?? '';
  if (last.length >= 20 && last !== value) secrets.add(last);
  for (const part of [value, last]) {
    if (part.length < 20) continue;
    const digest = createHash('sha256').update(part).digest();
    secrets.add(digest.toString('base64url'));
    secrets.add(digest.toString('hex'));
  }
}

/** Patterns no log line and no answer may contain. */
export const LEAK_PATTERNS: RegExp[] = [
  /\$argon2(id|i|d)\$/, // a password hash
  /\bat [^\s]+ \(.*:\d+:\d+\)/, // a stack frame
  /\bat .*\.(ts|js|cjs|mjs):\d+:\d+/,
  /\b(Type|Reference|Syntax|Range)?Error: /,
  /\b(WRONGTYPE|NOSCRIPT|NOAUTH|NOPERM|READONLY|CROSSSLOT|MOVED|ASK|CLUSTERDOWN|LOADING|MASTERDOWN)\b/,
  /\bERR (unknown|wrong|syntax|Error)/, // Redis error replies
  /\/(work|home|tmp|usr|opt|var|srv)\/[\w.-]+\/|\/root\/\.|\.(ts|js|cjs|mjs|lua)\b:\d+/, // a file path
  /node_modules/,
];

/** Lines that carry a secret or a leak pattern, with what matched (the secret itself is not repeated). */
export function findLeaks(lines: readonly string[], extraSecrets: readonly string[] = []): string[] {
  const found: string[] = [];
  const all = [...secrets, ...extraSecrets];
  for (const [index, line] of lines.entries()) {
    if (/\$argon2(id|i|d)\$/.test(line)) found.push(`line ${index + 1}: a password hash`);
    for (const secret of all) {
      if (line.includes(secret))
        found.push(`line ${index + 1}: a secret (${secret.length} chars) in: ${line.slice(0, 80)}…`);
    }
  }
  return found;
}

/** Leaks in an HTTP answer body (patterns and the echoed token). */
export function bodyLeaks(body: string, echoed: readonly string[] = []): string[] {
  const found = LEAK_PATTERNS.filter((p) => p.test(body)).map((p) => `pattern ${p}`);
  for (const value of echoed)
    if (value.length >= 8 && body.includes(value)) found.push('the credential sent is echoed');
  return found;
}

/** How many secrets are being watched (reported by the log scan). */
export function secretCount(): number {
  return secrets.size;
}
