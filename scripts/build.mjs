#!/usr/bin/env node
// Builds every workspace package that has a `tsconfig.build.json`: `tsc -b` (project
// references, incremental) emits `dist/*.js` + `.d.ts` from `src/`, then every non-TypeScript
// file under `src/` (Lua scripts, pages, ...) is copied beside the JavaScript that reads it,
// and outputs whose source is gone are removed (so a moved file never ships twice).
// No file lists: what a package publishes is its `exports` map; what is built is `src/`
// minus tests (`*.test.ts`, `testing/`, `*-fixtures.ts`, see tsconfig.lib.json's users).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without devDependencies (`npm ci --omit=dev`) cannot build; run what is built.
  if (existsSync(join(root, 'packages/server/dist/cli/main.js'))) process.exit(0);
  console.error('build: typescript is not installed (run `npm ci` with devDependencies)');
  process.exit(1);
}
const packages = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => existsSync(join(dir, 'tsconfig.build.json')));

const isTest = (path) => /(^|\/)testing(\/|$)|\.test\.ts$|-fixtures\.ts$/.test(path);
const isTs = (path) => path.endsWith('.ts') && !path.endsWith('.d.ts');

function* walk(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

execFileSync(process.execPath, [tsc, '-b', join(root, 'tsconfig.build.json'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});

for (const dir of packages) {
  const src = join(dir, 'src');
  const dist = join(dir, 'dist');
  for (const file of walk(src)) {
    const rel = relative(src, file);
    if (isTs(rel) || isTest(rel)) continue;
    mkdirSync(dirname(join(dist, rel)), { recursive: true });
    copyFileSync(file, join(dist, rel));
  }
  for (const file of walk(dist)) {
    const rel = relative(dist, file);
    if (rel === '.tsbuildinfo') continue;
    const source = rel.replace(/\.d\.ts$|\.js$/, '.ts');
    const stale =
      source === rel ? !existsSync(join(src, rel)) : !existsSync(join(src, source)) || isTest(source);
    if (stale) rmSync(file);
  }
}
