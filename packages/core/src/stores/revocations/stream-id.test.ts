import { describe, expect, it } from 'vitest';
import { readEntriesAdded } from '../redis/redis-revocation-source.ts';
import { compareStreamIds } from './stream-id.ts';

describe('stream ids', () => {
  it('compares numerically, not as strings', () => {
    expect(compareStreamIds('10-0', '9-5')).toBe(1);
    expect(compareStreamIds('5-10', '5-9')).toBe(1);
    expect(compareStreamIds('0', '0-0')).toBe(0);
    expect(compareStreamIds('1700000000000-1', '1700000000000-2')).toBe(-1);
  });

  it('reads entries-added from XINFO STREAM, 0 when missing', () => {
    expect(readEntriesAdded(['length', 0, 'entries-added', 7, 'last-generated-id', '1-0'])).toBe(7);
    expect(readEntriesAdded(null)).toBe(0);
  });
});
