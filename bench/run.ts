// `npm run bench`: every benchmark, each reported as a ratio to a baseline measured in the
// same invocation (this machine is shared and noisy). Writes bench/results/*.json and
// regenerates docs/performance.md and docs/charts/*.svg. `npm run bench -- http core` runs
// only those suites.
// `npm run bench:quick` (`--quick`): a development check in under 2 minutes: the peers,
// revocation and memory suites with 1-second loads, one round and few trials, written to
// bench/results/quick/ (docs are not regenerated). Every knob can still be set by env.
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
if (quick) {
  const defaults: Record<string, string> = {
    BENCH_DURATION: '1',
    BENCH_ROUNDS: '1',
    BENCH_REVOCATION_TRIALS: '15',
    BENCH_RESTART_ENTRIES: '1000',
    BENCH_MEMORY_SESSIONS: '8',
    BENCH_SCALE_SESSIONS: '1000,10000',
    BENCH_SCALE_REVOKED: '0,1000',
    BENCH_VALIDATION: 'npm run bench:quick',
    BENCH_RESULTS_DIR: fileURLToPath(new URL('./results/quick/', import.meta.url)),
  };
  for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
}
// Imported after the environment is settled (the results directory is read at import).
const { writeResult } = await import('./lib/results.ts');
const { writePerformanceDoc } = await import('./report.ts');

type Suite = { name: string; run: () => Promise<unknown> };

const suites: Suite[] = [
  { name: 'core', run: async () => (await import('./core.bench.ts')).runCoreBench() },
  { name: 'auth', run: async () => (await import('./auth.bench.ts')).runAuthBench() },
  { name: 'http', run: async () => (await import('./http.bench.ts')).runHttpBench() },
  { name: 'guard', run: async () => (await import('./guard.bench.ts')).runGuardBench() },
  { name: 'peers', run: async () => (await import('./peers.bench.ts')).runPeersBench() },
  { name: 'scale', run: async () => (await import('./scale.bench.ts')).runScaleBench() },
  { name: 'memory', run: async () => (await import('./memory.bench.ts')).runMemoryBench() },
  { name: 'revocation', run: async () => (await import('./revocation.bench.ts')).runRevocationBench() },
  { name: 'tracking', run: async () => (await import('./tracking.bench.ts')).runTrackingBench() },
  { name: 'cluster', run: async () => (await import('./cluster.bench.ts')).runClusterBench() },
  { name: 'startup', run: async () => (await import('./startup.bench.ts')).runStartupBench() },
];

const named = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const wanted = named.length > 0 || !quick ? named : ['peers', 'revocation', 'memory'];
const started = Date.now();
for (const suite of suites) {
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  console.log(`bench: ${suite.name} …`);
  const t0 = Date.now();
  const result = await suite.run();
  writeResult(suite.name, result);
  console.log(
    `bench: ${suite.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${quick ? 'bench/results/quick' : 'bench/results'}/${suite.name}.json`,
  );
}
if (!quick) writePerformanceDoc();
console.log(
  `bench: all done in ${((Date.now() - started) / 1000).toFixed(1)} s; ${quick ? `results in ${process.env.BENCH_RESULTS_DIR}` : 'summary in docs/performance.md'}`,
);
