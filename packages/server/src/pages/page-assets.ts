import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
 * The page script, `browser/main.ts` with `@tessera/client` bundled by esbuild at build time
 * (`scripts/build.mjs`, into `dist/pages/pages.js`): beside this module in the compiled
 * package, or in the package's `dist/` when running from source (tests, tsx).
 */
function readPageScript(): string {
  for (const path of [here('./pages.js'), here('../../dist/pages/pages.js')]) {
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  throw new Error('the page script is not built (dist/pages/pages.js): run `npm run build`');
}

let assets: Promise<PageAssets> | undefined;

/** The pages' script, style sheet and icon (read once, kept in memory). */
export function loadPageAssets(): Promise<PageAssets> {
  assets ??= Promise.resolve()
    .then(() => ({
      script: asset(readPageScript(), 'text/javascript; charset=utf-8'),
      style: asset(readFileSync(here('./pages.css'), 'utf8'), 'text/css; charset=utf-8'),
      icon: asset(readFileSync(here('./icon.svg'), 'utf8'), 'image/svg+xml'),
    }))
    .catch((error: unknown) => {
      assets = undefined; // try again on the next request
      throw error;
    });
  return assets;
}
