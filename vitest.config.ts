import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@tessera/testkit/fixtures': `${root}packages/testkit/src/fixtures.ts`,
      '@tessera/testkit/auth-service': `${root}packages/testkit/src/auth-service.ts`,
      '@tessera/testkit': `${root}packages/testkit/src/index.ts`,
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
