import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** bench/results/, or BENCH_RESULTS_DIR (`npm run bench:quick` writes to bench/results/quick/). */
export const RESULTS_DIR = process.env.BENCH_RESULTS_DIR
  ? new URL(`file://${process.env.BENCH_RESULTS_DIR.replace(/\/?$/, '/')}`)
  : new URL('../results/', import.meta.url);

export function machine(): { cpus: number; cpuModel: string; node: string } {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
}

/** Writes `bench/results/<name>.json` with machine facts and a timestamp. */
export function writeResult(name: string, data: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  // BENCH_VALIDATION names a short run on a loaded machine; the report labels its numbers so.
  const validation = process.env.BENCH_VALIDATION ? { validation: process.env.BENCH_VALIDATION } : {};
  const body = {
    machine: machine(),
    date: new Date().toISOString(),
    ...validation,
    ...((data as object) ?? {}),
  };
  writeFileSync(new URL(`${name}.json`, RESULTS_DIR), `${JSON.stringify(body, null, 2)}\n`);
}

export function ratio(value: number, baseline: number): number {
  return baseline > 0 ? Math.round((value / baseline) * 100) / 100 : 0;
}
