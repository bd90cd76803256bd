import { describe, expect, it } from 'vitest';
import { RevocationSet } from './revocations.ts';

const T = Date.UTC(2026, 0, 1);

describe('RevocationSet', () => {
  it('refuses a revoked session until its until + tolerance, then forgets it', () => {
    const set = new RevocationSet(10_000);
    set.apply({ kind: 'session', id: '1-0', sessionId: 'u1.s', userId: 'u1', until: T + 60_000 });
    expect(set.isRevoked('u1.s', 'u1', T / 1000, T)).toBe(true);
    expect(set.isRevoked('u1.other', 'u1', T / 1000, T)).toBe(false);
    expect(set.isRevoked('u1.s', 'u1', T / 1000, T + 69_999)).toBe(true);
    expect(set.isRevoked('u1.s', 'u1', T / 1000, T + 70_000)).toBe(false);
    set.prune(T + 70_000);
    expect(set.size).toEqual({ sessions: 0, users: 0 });
  });

  it('a user entry refuses the listed sessions and tokens with iat strictly before floor(before/1000)', () => {
    const set = new RevocationSet(0);
    const before = T + 5_500;
    set.apply({ kind: 'user', id: '2-0', userId: 'u2', sessionIds: ['u2.a'], before, until: T + 600_000 });
    expect(set.isRevoked('u2.a', 'u2', T / 1000 + 100, T)).toBe(true);
    expect(set.isRevoked('u2.b', 'u2', T / 1000 + 4, T)).toBe(true);
    expect(set.isRevoked('u2.b', 'u2', T / 1000 + 5, T)).toBe(false);
    expect(set.isRevoked('u3.b', 'u3', T / 1000, T)).toBe(false);
  });

  it('keeps a fact at least until minKeepUntil (opaque entries carry until ≈ now)', () => {
    const set = new RevocationSet(10_000);
    set.apply({ kind: 'session', id: '4-0', sessionId: 'u5.s', userId: 'u5', until: T }, T + 31_000);
    expect(set.isRevoked('u5.s', 'u5', 0, T + 30_999)).toBe(true);
    expect(set.isRevoked('u5.s', 'u5', 0, T + 31_000)).toBe(false);
  });

  it('never weakens a fact: a later, shorter entry keeps the longer keep time and the later cutoff', () => {
    const set = new RevocationSet(0);
    set.apply({
      kind: 'user',
      id: '3-0',
      userId: 'u4',
      sessionIds: [],
      before: T + 9_000,
      until: T + 600_000,
    });
    set.apply({
      kind: 'user',
      id: '3-1',
      userId: 'u4',
      sessionIds: [],
      before: T + 1_000,
      until: T + 60_000,
    });
    expect(set.isRevoked('u4.x', 'u4', T / 1000 + 8, T + 100_000)).toBe(true);
  });
});
