import { type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AttackerServer,
  buildCorpus,
  expectGenuineAccepted,
  runCorpus,
  startAttackerServer,
  targetsOf,
} from './support/jwt-corpus.ts';
import { findLeaks } from './support/secrets.ts';
import { type SigningAlg, type Stack, startStack } from './support/stack.ts';

let redis: RedisServer;
let attacker: AttackerServer;
let total = 0;

beforeAll(async () => {
  redis = await startRedis();
  attacker = await startAttackerServer({ keys: [] });
}, 60_000);

afterAll(async () => {
  await attacker?.close();
  await redis?.stop();
  console.log(`JWT attack corpus: ${total} attack cases over 3 algorithms, each sent to 4 targets`);
});

describe.each(['EdDSA', 'ES256', 'RS256'] as SigningAlg[])('JWT attack corpus, %s', (alg) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ redisUrl: redis.url, alg });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    expect(findLeaks(stack?.processes.flatMap((p) => p.output) ?? [])).toEqual([]);
  });

  it('refuses every case at the auth service (/v1/session, /v1/authorize) and both guards; accepts the genuine token', async () => {
    const alice = await stack.login('alice');
    const root = await stack.login('root');
    const cases = await buildCorpus({
      alg,
      token: alice.accessToken,
      otherToken: root.accessToken,
      refreshToken: alice.refreshToken ?? '',
      signing: await stack.signingKey(),
      attacker,
    });
    const targets = targetsOf(stack);
    expect(targets).toHaveLength(4);
    expect(await expectGenuineAccepted(alice.accessToken, targets)).toEqual([]);
    const failures = await runCorpus(cases, targets);
    expect(await expectGenuineAccepted(alice.accessToken, targets)).toEqual([]);
    total += cases.length;
    console.log(
      `${alg}: ${cases.length} attack cases × ${targets.length} targets, ${failures.length} not refused`,
    );
    expect(failures).toEqual([]);
    expect(attacker.hits).toEqual([]);
  }, 60_000);
});
