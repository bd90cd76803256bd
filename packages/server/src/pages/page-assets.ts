import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** A static file of the pages, with a content hash for cache-busting URLs. */
export interface PageAsset {
  body: string;
  contentType: string;
  /** First 16 hex digits of the SHA-256 of `body`. */
  hash: string;
}

export interface PageAssets {
  script: PageAsset;
  style: PageAsset;
  icon: PageAsset;
}

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

function asset(body: string, contentType: string): PageAsset {
  return { body, contentType, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) };
}

/**
 * Bundles `browser/main.ts` (and `@tessera/client`, from source) into one ES module with
 * esbuild, offline, in memory. Runs once per process, on the first page request.
 */
async function buildPageScript(): Promise<string> {
  const result = await build({
    // From source (tsx, tests) or, in a compiled package, its JavaScript.
    entryPoints: [
      existsSync(here('./browser/main.ts')) ? here('./browser/main.ts') : here('./browser/main.js'),
    ],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    conditions: ['@tessera/source'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('the page script bundle is empty');
  return output.text;
}

let assets: Promise<PageAssets> | undefined;

/** The pages' script, style sheet and icon (built once, kept in memory). */
export function loadPageAssets(): Promise<PageAssets> {
  assets ??= buildPageScript().then(
    (script) => ({
      script: asset(script, 'text/javascript; charset=utf-8'),
      style: asset(readFileSync(here('./pages.css'), 'utf8'), 'text/css; charset=utf-8'),
      icon: asset(readFileSync(here('./icon.svg'), 'utf8'), 'image/svg+xml'),
    }),
    (error: unknown) => {
      assets = undefined; // try again on the next request
      throw error;
    },
  );
  return assets;
}
