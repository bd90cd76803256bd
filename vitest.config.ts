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
  // Tests import the workspace packages' TypeScript sources (the `@tessera/source` export
  // condition), not their compiled `dist/`; spawned processes run the build (globalSetup).
  // The other three are Vite's default server conditions (setting the list replaces them).
  ssr: { resolve: { conditions: ['@tessera/source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['scripts/vitest-global-setup.mjs'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
