// `npm run bench`: every benchmark, each reported as a ratio to a baseline measured in the
// same invocation (this machine is shared and noisy). Writes bench/results/*.json and
// regenerates docs/performance.md. `npm run bench -- http core` runs only those suites.
import { writeResult } from './lib/results.ts';
import { writePerformanceDoc } from './report.ts';

type Suite = { name: string; run: () => Promise<unknown> };

const suites: Suite[] = [
  { name: 'core', run: async () => (await import('./core.bench.ts')).runCoreBench() },
  { name: 'auth', run: async () => (await import('./auth.bench.ts')).runAuthBench() },
  { name: 'http', run: async () => (await import('./http.bench.ts')).runHttpBench() },
  { name: 'guard', run: async () => (await import('./guard.bench.ts')).runGuardBench() },
  { name: 'revocation', run: async () => (await import('./revocation.bench.ts')).runRevocationBench() },
  { name: 'tracking', run: async () => (await import('./tracking.bench.ts')).runTrackingBench() },
  { name: 'cluster', run: async () => (await import('./cluster.bench.ts')).runClusterBench() },
  { name: 'startup', run: async () => (await import('./startup.bench.ts')).runStartupBench() },
];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const started = Date.now();
for (const suite of suites) {
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  console.log(`bench: ${suite.name} …`);
  const t0 = Date.now();
  const result = await suite.run();
  writeResult(suite.name, result);
  console.log(
    `bench: ${suite.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s → bench/results/${suite.name}.json`,
  );
}
writePerformanceDoc();
console.log(
  `bench: all done in ${((Date.now() - started) / 1000).toFixed(1)} s; summary in docs/performance.md`,
);
