import { type RedisServer, startRedis } from '@tessera/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzRequest } from './support/fuzz-request.ts';
import {
  type AttackerServer,
  buildCorpus,
  expectGenuineAccepted,
  runCorpus,
  startAttackerServer,
  targetsOf,
} from './support/jwt-corpus.ts';
import { ISSUE_9_CASES } from './support/pending.ts';
import { rawRequest } from './support/raw-http.ts';
import { ADMIN_TOKEN, type SigningAlg, type Stack, startStack, type TokenResponse } from './support/stack.ts';

/**
 * Cases of the suite that found defects fixed under issue 9 (token lifetime bound; every
 * error of the auth service, the framework's and the HTTP parser's included, is problem+json).
 */

describe('issue 9: every error of the auth service is problem+json (fuzzed)', () => {
  let redis: RedisServer;
  let stack: Stack;
  let root: TokenResponse;
  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({ redisUrl: redis.url, services: false });
    root = await stack.login('root');
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('any request the fuzzer makes: a 4xx answer with a body is application/problem+json with a code', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? '') || Math.floor(Math.random() * 2 ** 31);
    console.log(`pending fuzz: seed ${seed}`);
    const requests = fuzzRequest({
      genuine: () => root.accessToken,
      rootAccess: () => root.accessToken,
      rootRefresh: () => root.refreshToken ?? '',
      admin: ADMIN_TOKEN,
    });
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const headers: [string, string][] = [];
        if (r.contentType !== '') headers.push(['content-type', r.contentType]);
        if (r.authorization !== null) headers.push(['authorization', r.authorization]);
        if (r.cookie !== null) headers.push(['cookie', r.cookie]);
        headers.push(...r.extra.filter(([name]) => name !== 'expect'));
        const answer = await rawRequest(stack.authUrl, {
          method: r.method,
          path: r.path,
          headers,
          ...(r.body !== null ? { body: r.body } : {}),
        });
        if (answer.status < 400 || r.method === 'HEAD' || answer.body === '') return;
        expect(answer.headers['content-type'], `${r.method} ${r.path}: ${answer.body.slice(0, 200)}`).toMatch(
          /^application\/problem\+json/,
        );
        expect(JSON.parse(answer.body)).toHaveProperty('code');
      }),
      {
        seed,
        numRuns: 100_000,
        interruptAfterTimeLimit: 5000,
        markInterruptAsFailure: false,
        endOnFailure: true,
      },
    );
  }, 60_000);
});

describe.each(['EdDSA', 'ES256', 'RS256'] as SigningAlg[])('issue 9, %s', (alg) => {
  let redis: RedisServer;
  let attacker: AttackerServer;
  let stack: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    attacker = await startAttackerServer({ keys: [] });
    stack = await startStack({ redisUrl: redis.url, alg });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await attacker?.close();
    await redis?.stop();
  });

  it('refuses an access token whose lifetime exceeds the access TTL, everywhere', async () => {
    const alice = await stack.login('alice');
    const root = await stack.login('root');
    const cases = (
      await buildCorpus({
        alg,
        token: alice.accessToken,
        otherToken: root.accessToken,
        refreshToken: alice.refreshToken ?? '',
        signing: await stack.signingKey(),
        attacker,
      })
    ).filter((c) => ISSUE_9_CASES.has(c.name));
    expect(cases).toHaveLength(ISSUE_9_CASES.size);
    const targets = targetsOf(stack);
    expect(await expectGenuineAccepted(alice.accessToken, targets)).toEqual([]);
    expect(await runCorpus(cases, targets)).toEqual([]);
  }, 60_000);
});
