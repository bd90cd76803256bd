import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const LOCK = new URL('./broadcast-lock.ts', import.meta.url).href;

// Each worker is a "tab": its own module instance, talking to the others only through
// BroadcastChannel. Inside the lock it marks the shared cell busy, yields, and checks that
// nobody else got in.
const TAB = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  (await import('tsx/esm/api')).register(); // TypeScript sources, as the tessera bin loads them
  const { acquireBroadcastLock } = await import(workerData.lock);
  const cells = new Int32Array(workerData.shared);
  const rounds = [];
  await new Promise((resolve) => setTimeout(resolve, workerData.delay));
  for (let round = 0; round < workerData.rounds; round++) {
    rounds.push(acquireBroadcastLock(workerData.name, async () => {
      if (Atomics.add(cells, 0, 1) !== 0) Atomics.add(cells, 1, 1); // someone else is inside
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
      Atomics.sub(cells, 0, 1);
      Atomics.add(cells, 2, 1);
    }));
  }
  await Promise.all(rounds);
  parentPort.postMessage('done');
})().catch((error) => parentPort.postMessage(String(error && error.stack || error)));
`;

describe('BroadcastChannel lock (the fallback without Web Locks)', () => {
  it('lets one tab at a time in, across four tabs starting together', { timeout: 60_000 }, async () => {
    const shared = new SharedArrayBuffer(12);
    const tabs = 4;
    const rounds = 5;
    const results = await Promise.all(
      Array.from({ length: tabs }, (_, i) => {
        const worker = new Worker(TAB, {
          eval: true,
          workerData: { lock: LOCK, shared, name: `test-lock-${process.pid}`, rounds, delay: i * 3 },
        });
        return new Promise<string>((resolve, reject) => {
          worker.once('message', (message: string) => {
            void worker.terminate();
            resolve(message);
          });
          worker.once('error', reject);
        });
      }),
    );
    expect(results).toEqual(Array(tabs).fill('done'));
    const cells = new Int32Array(shared);
    expect(cells[1], 'times two tabs were inside at once').toBe(0);
    expect(cells[2]).toBe(tabs * rounds);
  });
});
