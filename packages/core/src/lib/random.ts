import { randomFillSync } from 'node:crypto';

/**
 * CSPRNG bytes from a pooled buffer, refilled 8 KiB at a time (the same technique as Node's
 * own `crypto.randomUUID`): one `randomFillSync` call serves hundreds of tokens, which
 * matters on the refresh path where every call needs a new secret and an IV. Every byte is
 * handed out once and the slice is copied, so no two callers share bytes.
 */
const POOL_SIZE = 8192;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

export function randomBytesPooled(size: number): Buffer {
  if (size > POOL_SIZE) return randomFillSync(Buffer.alloc(size));
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + size));
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}
