// Baseline: a bare @node-rs/argon2 verify loop (8 in flight) in its own process, with the same
// libuv pool size as the auth service, so the two are compared on equal terms.
import { hash, verify } from '@node-rs/argon2';
import { DEFAULT_PASSWORD_PARAMS } from '@tessera/server';
import { runLoop } from '../lib/process.ts';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
const stored = await hash('bench password 1234', { ...DEFAULT_PASSWORD_PARAMS, algorithm: 2 });
const perSec = await runLoop(8, durationMs, () => verify(stored, 'bench password 1234'));
process.send?.({ perSec });
