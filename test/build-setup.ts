import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: builds the packages (incremental `tsc -b`, ~1 s when nothing changed)
 * before any test runs, so tests that spawn the compiled `tessera` bin or pack the packages
 * never see a stale `dist/` — also under `npx vitest run <file>`, which skips `pretest`.
 */
export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
}
