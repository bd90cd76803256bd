// Alternating rounds: every scenario once per round (each server its own process, started
// fresh), rounds repeated; each ratio is the median of its per-round ratios, so a noisy moment
// on shared cores moves one sample, not the verdict.
import { type LoadResult, runLoad } from './load.ts';
import { ratio } from './results.ts';

export interface Target {
  url: string;
  cpu: () => number | Promise<number>;
  stop: () => Promise<void>;
  /** Request headers (the credential) for this target. */
  headers?: Record<string, string>;
}

export interface Scenario {
  name: string;
  start: () => Promise<Target>;
  path: string;
}

export interface RatioRow extends LoadResult {
  baseline: string;
  ratio: number;
  ratioRange: [number, number];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function print(r: LoadResult): void {
  console.log(
    `  ${r.name.padEnd(56)} ${String(r.requestsPerSec).padStart(7)} req/s  p99 ${r.latencyP99Ms} ms  cpu ${r.serverCpuUsPerRequest} µs/req  non2xx ${r.non2xx}`,
  );
}

export async function runRounds(scenarios: Scenario[], rounds: number) {
  const samples = new Map<string, LoadResult[]>();
  for (let round = 1; round <= rounds; round++) {
    console.log(`  round ${round}/${rounds}`);
    for (const scenario of scenarios) {
      const target = await scenario.start();
      try {
        const result = await runLoad({
          name: scenario.name,
          url: `${target.url}${scenario.path}`,
          headers: target.headers ?? {},
          cpu: target.cpu,
        });
        print(result);
        samples.set(scenario.name, [...(samples.get(scenario.name) ?? []), result]);
      } finally {
        await target.stop();
      }
    }
  }
  const summary = (name: string): LoadResult => {
    const runs = samples.get(name) ?? [];
    const pick = (f: (r: LoadResult) => number) => median(runs.map(f));
    return {
      name,
      requestsPerSec: pick((r) => r.requestsPerSec),
      latencyP50Ms: pick((r) => r.latencyP50Ms),
      latencyP99Ms: pick((r) => r.latencyP99Ms),
      serverCpuUsPerRequest: pick((r) => r.serverCpuUsPerRequest),
      requests: pick((r) => r.requests),
      non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
      errors: runs.reduce((n, r) => n + r.errors, 0),
    };
  };
  const row = (name: string, baseline: string): RatioRow => {
    const ours = samples.get(name) ?? [];
    const base = samples.get(baseline) ?? [];
    const perRound = ours.map((r, i) => ratio(r.requestsPerSec, base[i]?.requestsPerSec ?? 0));
    return {
      ...summary(name),
      baseline,
      ratio: median(perRound),
      ratioRange: [Math.min(...perRound), Math.max(...perRound)],
    };
  };
  return { summary, row, all: () => scenarios.map((s) => summary(s.name)) };
}
