#!/usr/bin/env node
// Builds every workspace package that has a `tsconfig.build.json`: `tsc -b` (project
// references, incremental) emits `dist/*.js` + `.d.ts` from `src/`, then every non-TypeScript
// file under `src/` (Lua scripts, pages, ...) is copied beside the JavaScript that reads it,
// and outputs whose source is gone are removed (so a moved file never ships twice).
// No file lists: what a package publishes is its `exports` map; what is built is `src/`
// minus tests (`*.test.ts`, `testing/`, `*-fixtures.ts`, see tsconfig.lib.json's users).
// Sources under a `browser/` folder are not compiled by tsc (their package's tsconfig.build.json
// excludes them): esbuild bundles them into one browser script (BUNDLES), so the published
// package ships that file and no bundler or TypeScript loader at run time.
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
const isBrowser = (path) => /(^|\/)browser\//.test(path);

/** Browser scripts: entry (under `src/`) → output (under `dist/`), per package directory. */
const BUNDLES = [
  // The login and account pages' one script with `@tessera/client` (from its source), served
  // as /pages/pages.js; read by packages/server/src/pages/page-assets.ts.
  { dir: 'packages/server', entry: 'pages/browser/main.ts', out: 'pages/pages.js' },
];
const bundled = new Set(BUNDLES.map((b) => join(root, b.dir, 'dist', b.out)));
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
    if (isTs(rel) || isTest(rel) || isBrowser(rel)) continue;
    mkdirSync(dirname(join(dist, rel)), { recursive: true });
    copyFileSync(file, join(dist, rel));
  }
  for (const file of walk(dist)) {
    const rel = relative(dist, file);
    if (rel === '.tsbuildinfo' || bundled.has(file)) continue;
    const source = rel.replace(/\.d\.ts$|\.js$/, '.ts');
    const stale =
      source === rel
        ? !existsSync(join(src, rel))
        : !existsSync(join(src, source)) || isTest(source) || isBrowser(source);
    if (stale) rmSync(file);
  }
}

if (BUNDLES.length > 0) {
  const { build } = await import('esbuild');
  for (const { dir, entry, out } of BUNDLES) {
    await build({
      entryPoints: [join(root, dir, 'src', entry)],
      outfile: join(root, dir, 'dist', out),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2020'],
      // Workspace packages from their TypeScript sources (no dependency on their dist/ order).
      conditions: ['@tessera/source'],
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
}
