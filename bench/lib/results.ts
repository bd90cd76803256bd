import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const RESULTS_DIR = new URL('../results/', import.meta.url);

export function machine(): { cpus: number; cpuModel: string; node: string } {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
}

/** Writes `bench/results/<name>.json` with machine facts and a timestamp. */
export function writeResult(name: string, data: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const body = { machine: machine(), date: new Date().toISOString(), ...((data as object) ?? {}) };
  writeFileSync(new URL(`${name}.json`, RESULTS_DIR), `${JSON.stringify(body, null, 2)}\n`);
}

export function ratio(value: number, baseline: number): number {
  return baseline > 0 ? Math.round((value / baseline) * 100) / 100 : 0;
}
