import { describe, expect, it } from 'vitest';
import { randomBytesPooled } from './random.ts';

describe('randomBytesPooled', () => {
  it('never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomBytesPooled(32).toString('hex'));
    expect(seen.size).toBe(5000);
  });

  it('returns copies of the requested size, large sizes included', () => {
    const a = randomBytesPooled(12);
    const b = randomBytesPooled(12);
    expect(a.length).toBe(12);
    expect(a.equals(b)).toBe(false);
    expect(randomBytesPooled(10_000).length).toBe(10_000);
  });
});
