import { describe, expect, it } from 'vitest';
import { credentialFrom } from './guard.ts';
import { ExpiringLru } from './lib/lru.ts';

describe('credentialFrom', () => {
  it('prefers Authorization: Bearer, then the mode cookie', () => {
    expect(credentialFrom({ authorization: 'Bearer abc', cookie: 'tessera_access=def' })).toBe('abc');
    expect(credentialFrom({ authorization: 'bearer  abc' })).toBe('abc');
    expect(credentialFrom({ cookie: 'a=1; tessera_access=def; b=2' })).toBe('def');
    expect(credentialFrom({ cookie: 'tessera_session=tss_x' }, 'tessera_session')).toBe('tss_x');
    expect(credentialFrom(new Headers({ authorization: 'Bearer w' }))).toBe('w');
    expect(credentialFrom({ authorization: 'Basic YTpi', cookie: 'tessera_access=c' })).toBe('c');
  });

  it('returns undefined for nothing usable, and for oversized headers', () => {
    expect(credentialFrom({})).toBeUndefined();
    expect(credentialFrom({ authorization: 'Bearer' })).toBeUndefined();
    expect(credentialFrom({ authorization: 'Bearer a b' })).toBeUndefined();
    expect(credentialFrom({ cookie: 'tessera_access=' })).toBeUndefined();
    expect(credentialFrom({ cookie: '%%%; tessera_access=%E0%A4%A' })).toBe('%E0%A4%A');
    expect(credentialFrom({ authorization: `Bearer ${'a'.repeat(1 << 20)}` })).toBeUndefined();
    expect(credentialFrom({ cookie: `tessera_access=${'a'.repeat(1 << 20)}` })).toBeUndefined();
  });
});

describe('ExpiringLru', () => {
  it('evicts the least recently used entry and never returns an expired one', () => {
    const lru = new ExpiringLru<number>(2);
    lru.set('a', 1, 100);
    lru.set('b', 2, 100);
    expect(lru.get('a', 0)).toBe(1);
    lru.set('c', 3, 100);
    expect(lru.get('b', 0)).toBeUndefined();
    expect(lru.get('a', 0)).toBe(1);
    expect(lru.get('a', 100)).toBeUndefined();
    expect(lru.size).toBe(1);
  });
});
