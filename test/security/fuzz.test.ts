import { generateKeyPairSync } from 'node:crypto';
import { verifyAccessToken } from '@tessera/core';
import {
  hashToken,
  openSuccessor,
  parseOpaqueToken,
  parseRevocationEntry,
  parseSessionId,
} from '@tessera/core/internal';
import { credentialFrom } from '@tessera/guard';
import { type RedisServer, startRedis } from '@tessera/testkit';
import fc from 'fast-check';
import { createLocalJWKSet, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCookie } from '../../packages/guard/src/lib/cookies.ts';
import { b64u, encodeJson } from './support/forge.ts';
import { fuzzRequest } from './support/fuzz-request.ts';
import { expectGenuineAccepted, targetsOf } from './support/jwt-corpus.ts';
import { rawRequest } from './support/raw-http.ts';
import { bodyLeaks, findLeaks } from './support/secrets.ts';
import { ADMIN_TOKEN, type Stack, startStack, type TokenResponse } from './support/stack.ts';

/**
 * Property-based fuzzing (fast-check). Time-boxed: FUZZ_SECONDS (a test-only name, so no
 * TESSERA_* in the caller's shell changes it) scales the budget, default 15 s for the HTTP
 * property and a fifth of that for each parser property. FUZZ_SEED replays a run; the seed is
 * printed at the start and fast-check prints seed and path on failure.
 */
const seconds = Number(process.env.FUZZ_SECONDS ?? '') || 15;
const seed = Number(process.env.FUZZ_SEED ?? '') || Math.floor(Math.random() * 2 ** 31);
const runs: Record<string, number> = {};
const statuses: Record<string, number> = {};

let redis: RedisServer;
let stack: Stack;
let genuine: string;
/** root's tokens: authenticated fuzz requests reach the handlers behind authentication. */
let root: TokenResponse;

beforeAll(async () => {
  console.log(`fuzz: seed ${seed} (replay with FUZZ_SEED=${seed}), budget ${seconds} s`);
  redis = await startRedis();
  stack = await startStack({ redisUrl: redis.url });
  genuine = (await stack.login('alice')).accessToken;
  root = await stack.login('root');
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  const total = Object.values(runs).reduce((a, b) => a + b, 0);
  console.log(`fuzz: HTTP answers by status ${JSON.stringify(statuses)}`);
  console.log(
    `fuzz: ${total} runs (${Object.entries(runs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}), seed ${seed}`,
  );
  expect(findLeaks(stack?.processes.flatMap((p) => p.output) ?? [])).toEqual([]);
});

const options = (ms: number) => ({
  seed,
  numRuns: 1_000_000,
  interruptAfterTimeLimit: ms,
  markInterruptAsFailure: false,
  endOnFailure: true,
});

const request = fuzzRequest({
  genuine: () => genuine,
  rootAccess: () => root.accessToken,
  rootRefresh: () => root.refreshToken ?? '',
  admin: ADMIN_TOKEN,
});

describe('fuzzing the HTTP API (auth service, Express and Fastify guards)', () => {
  it(
    'never a 5xx, a stack trace, an error text, Redis text, a path or an echoed credential; healthy afterwards',
    async () => {
      runs.http = 0;
      const urls = {
        auth: stack.authUrl,
        orders: stack.services.orders as string,
        profile: stack.services.profile as string,
      };
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          // root's session may have been ended by a fuzzed logout, revoke or reuse: renew it.
          if ((runs.http ?? 0) % 200 === 199) root = await stack.login('root');
          runs.http = (runs.http ?? 0) + 1;
          const headers: [string, string][] = [];
          if (r.contentType !== '') headers.push(['content-type', r.contentType]);
          if (r.authorization !== null) headers.push(['authorization', r.authorization]);
          if (r.cookie !== null) headers.push(['cookie', r.cookie]);
          headers.push(...r.extra.filter(([name]) => name !== 'expect'));
          const answer = await rawRequest(urls[r.target], {
            method: r.method,
            path: r.path,
            headers,
            ...(r.body !== null ? { body: r.body } : {}),
          });
          const sent = [
            r.authorization?.replace(/^Bearer /, '') ?? '',
            ...(r.cookie ?? '').split(/[=;]/),
          ].filter((v) => v.length >= 16);
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
          expect(answer.status, `${r.method} ${r.path} → ${answer.status}`).toBeGreaterThanOrEqual(100);
          expect(
            answer.status,
            `${r.method} ${r.path} → ${answer.status}: ${answer.body.slice(0, 200)}`,
          ).toBeLessThan(500);
          expect(bodyLeaks(answer.body, sent), `${r.method} ${r.path}: ${answer.body.slice(0, 300)}`).toEqual(
            [],
          );
        }),
        options(seconds * 1000),
      );
      const health = await fetch(`${stack.authUrl}/healthz`);
      expect(health.status).toBe(200);
      expect(await expectGenuineAccepted(genuine, targetsOf(stack))).toEqual([]);
    },
    60_000 + seconds * 2000,
  );
});

describe('fuzzing every token parser and the cookie parser (in process)', () => {
  const budget = Math.max(1000, (seconds * 1000) / 5);
  const tokenChar = fc.constantFrom(
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/= '.split(''),
  );
  const tokenLike = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc
      .tuple(fc.constantFrom('tsr_', 'tss_', 'tsx_', ''), fc.string({ unit: tokenChar, maxLength: 120 }))
      .map(([prefix, rest]) => prefix + rest),
    fc
      .tuple(
        fc.json({ maxDepth: 3 }),
        fc.json({ maxDepth: 3 }),
        fc.string({ unit: tokenChar, maxLength: 90 }),
      )
      .map(([h, p, s]) => `${b64u(h)}.${b64u(p)}.${s}`),
    fc
      .tuple(
        fc.constantFrom('EdDSA', 'ES256', 'RS256', 'none', 'HS256'),
        fc.dictionary(fc.string(), fc.jsonValue()),
      )
      .map(
        ([alg, claims]) =>
          `${encodeJson({ alg, typ: 'at+jwt', kid: 'k' })}.${encodeJson(claims)}.${b64u('sig')}`,
      ),
  );

  it('parseOpaqueToken, parseSessionId, hashToken, openSuccessor, parseRevocationEntry never throw', () => {
    runs.opaque = 0;
    fc.assert(
      fc.property(
        tokenLike,
        fc.string({ maxLength: 60 }),
        fc.array(fc.string(), { maxLength: 8 }),
        (token, other, fields) => {
          runs.opaque = (runs.opaque ?? 0) + 1;
          const parsed = parseOpaqueToken(token);
          if (parsed !== null) expect(token.endsWith(parsed.secret)).toBe(true);
          parseSessionId(token);
          expect(hashToken(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
          expect(openSuccessor(token, other, other)).toBeNull();
          parseRevocationEntry(other, fields);
        },
      ),
      options(budget),
    );
  });

  it('verifyAccessToken answers invalid for any input, never throws', async () => {
    runs.jwt = 0;
    const { publicKey } = generateKeyPairSync('ed25519');
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'EdDSA' }] });
    await fc.assert(
      fc.asyncProperty(tokenLike, async (token) => {
        runs.jwt = (runs.jwt ?? 0) + 1;
        const result = await verifyAccessToken(token, keys, {
          issuer: 'https://i',
          audience: 'tessera',
          algorithms: ['EdDSA'],
        });
        expect(result.ok).toBe(false);
      }),
      options(budget),
    );
  });

  it('the guard credential and cookie parsers never throw and never return whitespace', () => {
    runs.credential = 0;
    fc.assert(
      fc.property(
        fc.option(fc.string({ unit: 'binary', maxLength: 300 })),
        fc.option(fc.string({ unit: 'binary', maxLength: 300 })),
        (authorization, cookieHeader) => {
          runs.credential = (runs.credential ?? 0) + 1;
          const headers: Record<string, string> = {};
          if (authorization !== null) headers.authorization = authorization;
          if (cookieHeader !== null) headers.cookie = cookieHeader;
          const found = credentialFrom(headers);
          if (found !== undefined) expect(found.length).toBeGreaterThan(0);
          if (
            authorization?.startsWith('Bearer ') &&
            found !== undefined &&
            found !== readCookie(cookieHeader ?? '', 'tessera_access')
          ) {
            expect(found).not.toMatch(/\s/);
          }
          try {
            readCookie(cookieHeader ?? '', 'tessera_access');
          } catch (error) {
            throw new Error(`readCookie threw for a header: ${String(error)}`);
          }
        },
      ),
      options(budget),
    );
  });
});
