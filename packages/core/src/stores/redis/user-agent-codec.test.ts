import { BROWSER_USER_AGENTS } from '@tessera/testkit';
import { describe, expect, it } from 'vitest';
import { decodeUserAgent, encodeUserAgent, UA_CODES, UA_TOKENS } from './user-agent-codec.ts';

const BROWSERS = [
  ...BROWSER_USER_AGENTS,
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0',
];

describe('User-Agent codec', () => {
  it('fits every current browser User-Agent under hash-max-listpack-value (64 bytes)', () => {
    for (const ua of BROWSERS) {
      const stored = encodeUserAgent(ua);
      expect(Buffer.byteLength(stored), ua).toBeLessThanOrEqual(32);
      expect(decodeUserAgent(stored)).toBe(ua);
    }
  });

  it('round-trips any string, control bytes, code bytes, the marker and non-ASCII included', () => {
    const samples = [
      '',
      'curl/8.5.0',
      '\x7f',
      '\x7fMozilla/5.0 (',
      'a\x01b',
      '\x01',
      'tab\there',
      'line\nbreak',
      '\x00nul',
      'Mozilla/5.0 (\x02',
      'Mozilla/5.0 (Mozilla/5.0 (',
      'ünïcödé 🚀 Mozilla/5.0 (X11; Linux x86_64',
      ...UA_TOKENS,
      ...UA_CODES,
      UA_TOKENS.join(''),
      UA_CODES.join(''),
    ];
    for (let c = 0; c < 256; c++) samples.push(`x${String.fromCharCode(c)}Chrome/1.0.0.0`);
    for (const ua of samples) expect(decodeUserAgent(encodeUserAgent(ua)), JSON.stringify(ua)).toBe(ua);
  });

  it('round-trips random strings built from tokens, codes and bytes', () => {
    const parts = [...UA_TOKENS, ...UA_CODES, '\x7f', '\x00', '\t', 'a', ' ', ')', '(', '.0', 'é'];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      let ua = '';
      const n = next() % 8;
      for (let j = 0; j < n; j++) ua += parts[next() % parts.length];
      expect(decodeUserAgent(encodeUserAgent(ua)), JSON.stringify(ua)).toBe(ua);
    }
  });

  it('reads a value stored before the encoding (a raw header) as itself', () => {
    for (const ua of BROWSERS) expect(decodeUserAgent(ua)).toBe(ua);
  });

  it('has one distinct control byte per token, none of them allowed in a header value', () => {
    expect(UA_CODES).toHaveLength(UA_TOKENS.length);
    expect(new Set(UA_CODES).size).toBe(UA_CODES.length);
    for (const code of UA_CODES) {
      const c = code.charCodeAt(0);
      expect(c > 0 && c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d).toBe(true);
    }
  });
});

describe('docs/redis-layout.md', () => {
  it('lists exactly the codec table (other languages decode from it)', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../../../../docs/redis-layout.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### User-Agent encoding'), doc.indexOf('An **expired** session'));
    const pairs = new Map<string, string>();
    for (const match of section.matchAll(/\| `\\x([0-9a-f]{2})` \| `([^`]+)`/g)) {
      pairs.set(String.fromCharCode(Number.parseInt(match[1] as string, 16)), match[2] as string);
    }
    expect(pairs.size).toBe(UA_TOKENS.length);
    UA_TOKENS.forEach((token, i) => {
      expect(pairs.get(UA_CODES[i] as string), token).toBe(token);
    });
  });
});
