// Measures a guard start: time until ready() with the revocation stream already holding many
// entries, and the heap it takes per revoked session. Run with --expose-gc; reports over IPC.
import { createGuard } from '@tessera/guard';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
gc();
const heapBefore = process.memoryUsage().heapUsed;
const t0 = performance.now();
const guard = createGuard();
await guard.ready();
const readyMs = performance.now() - t0;
gc();
const heapAfter = process.memoryUsage().heapUsed;
process.send?.({ readyMs, heapDeltaBytes: heapAfter - heapBefore, stats: guard.stats });
await guard.close();
process.exit(0);
