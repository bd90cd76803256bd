#!/usr/bin/env node
// `npm run check` part 4: every publishable workspace package (packages/*, not private) is
// checked as it would be published — publint (package.json fields, exports targets exist in
// the packed files) and @arethetypeswrong/cli (types resolve for every subpath under
// node16 and bundler resolution; ESM only, so CommonJS and node10 are out of scope).
// Both run offline on Node 20: they pack with `npm pack` locally and read nothing remote.
// Also: every bare import of the compiled JavaScript is a dependency or peer dependency
// (nothing the runtime needs may sit in devDependencies).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const publint = join(root, 'node_modules/.bin/publint');
const attw = join(root, 'node_modules/.bin/attw');

const packages = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Bare imports of the compiled JavaScript that `dependencies`/`peerDependencies` do not cover. */
function undeclaredImports(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const missing = new Set();
  for (const file of walk(join(dir, 'dist'))) {
    if (!file.endsWith('.js')) continue;
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*|^import\s*)['"]([^'"./][^'"]*)['"]/gm,
    )) {
      if (specifier.startsWith('node:')) continue;
      const name = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      if (!declared.has(name)) missing.add(`${name} (${file.slice(dir.length + 1)})`);
    }
  }
  return [...missing];
}

let failed = 0;
for (const dir of packages) {
  const missing = undeclaredImports(dir);
  if (missing.length > 0) {
    failed++;
    process.stderr.write(
      `check-packages: ${dir}: imported at run time but not a dependency: ${missing.join(', ')}\n`,
    );
  }
  for (const [tool, args] of [
    [publint, ['--strict']],
    [attw, ['--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync(tool, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      failed++;
      process.stderr.write(
        `check-packages: ${tool.includes('publint') ? 'publint' : 'attw'} failed for ${dir}\n`,
      );
      process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}\n`);
    }
  }
}
if (failed > 0) process.exit(1);
console.log(`check-packages: publint and attw clean for ${packages.length} packages`);
