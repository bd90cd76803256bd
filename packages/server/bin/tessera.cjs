#!/usr/bin/env node
// The `tessera` command. CommonJS on purpose: an ES-module entry is read through libuv's
// thread pool, which fixes the pool's size before any line here runs; a CommonJS entry is
// read synchronously, so the size below still applies.
const { availableParallelism } = require('node:os');

// argon2id runs on libuv's thread pool. With more pool threads than cores, hashes compete with
// each other and with the event loop (measured on 2 cores: 4 threads ≈ 14 ms CPU per login,
// 2 threads ≈ 11 ms, +25% logins/s). Size the pool to the cores unless the operator chose.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));

// The compiled CLI (`dist/`, built by `npm ci` / `npm run build` in the repository, shipped in
// the package): plain JavaScript, no TypeScript loader at run time.
import('../dist/cli/main.js').catch((error) => {
  const missing = error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('/dist/');
  console.error(
    missing
      ? 'tessera: the compiled CLI is missing (dist/); run `npm run build` in the repository'
      : `tessera: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
