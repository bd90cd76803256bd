#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step): tsx registers its ESM loader first.
import { availableParallelism } from 'node:os';

// argon2id runs on libuv's thread pool. With more pool threads than cores, hashes compete with
// each other and with the event loop (measured: 4 threads on 2 cores give ~15% fewer logins/s
// than 2). Size the pool to the cores unless the operator chose; it must be set before first use.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));

const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
