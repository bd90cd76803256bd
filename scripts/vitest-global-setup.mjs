// Vitest global setup: builds the packages (incremental `tsc -b`, ~1 s when nothing changed)
// before any test runs, so tests that spawn the compiled `tessera` bin or pack the packages
// never see a stale `dist/`, also under `npx vitest run <file>` (which runs no npm script).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup() {
  execFileSync(process.execPath, [fileURLToPath(new URL('./build.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
}
