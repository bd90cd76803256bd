import { createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, type JWK } from 'jose';
import {
  type AsymmetricAlg,
  attackerKeys,
  b64u,
  decodeToken,
  derSignature,
  encodeJson,
  fromB64u,
  P256_N,
  signHmac,
  signInput,
  signToken,
} from './forge.ts';
import { type RawResponse, rawRequest } from './raw-http.ts';
import { bodyLeaks } from './secrets.ts';
import type { Stack } from './stack.ts';

/** One attack: the request headers that carry it. */
export interface AttackCase {
  name: string;
  headers: [string, string][];
}

/** A server the attacker controls (`jku`/`x5u` target): it must never be asked anything. */
export interface AttackerServer {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

export async function startAttackerServer(jwks: { keys: JWK[] }): Promise<AttackerServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const ALGS: AsymmetricAlg[] = ['EdDSA', 'ES256', 'RS256'];
const bearer = (token: string): [string, string][] => [['authorization', `Bearer ${token}`]];

/** The public key in every form an HMAC key-confusion attacker tries. */
function publicKeyEncodings(publicJwk: JWK): [string, Uint8Array | string][] {
  const key = createPublicKey({ key: publicJwk as never, format: 'jwk' });
  const pem = key.export({ type: 'spki', format: 'pem' }) as string;
  const forms: [string, Uint8Array | string][] = [
    ['PEM SPKI with trailing newline', pem],
    ['PEM SPKI without trailing newline', pem.trimEnd()],
    ['DER SPKI bytes', key.export({ type: 'spki', format: 'der' })],
    ['JWK JSON', JSON.stringify(publicJwk)],
    ['JWKS JSON', JSON.stringify({ keys: [publicJwk] })],
  ];
  if (publicJwk.kty === 'RSA') {
    const pkcs1 = key.export({ type: 'pkcs1', format: 'pem' }) as string;
    forms.push(['PEM PKCS#1', pkcs1], ['PEM PKCS#1 without newline', pkcs1.trimEnd()]);
    forms.push(['raw n bytes', fromB64u(publicJwk.n as string)], ['the n value', publicJwk.n as string]);
  } else if (publicJwk.kty === 'EC') {
    const point = Buffer.concat([
      Buffer.from([4]),
      fromB64u(publicJwk.x as string),
      fromB64u(publicJwk.y as string),
    ]);
    forms.push(['raw uncompressed point', point], ['the x value', publicJwk.x as string]);
  } else {
    forms.push(['raw 32-byte key', fromB64u(publicJwk.x as string)], ['the x value', publicJwk.x as string]);
  }
  return forms;
}

export interface CorpusInput {
  alg: AsymmetricAlg;
  /** Genuine access token of a live session. */
  token: string;
  /** Another genuine access token (another user's). */
  otherToken: string;
  refreshToken: string;
  signing: { key: KeyObject; kid: string; publicJwk: JWK };
  attacker: AttackerServer;
}

/**
 * Every attack case of issue 13 for one algorithm. Claims cases are signed with the auth
 * service's real key (so only the claim is wrong); forgery cases with attacker keys.
 */
export async function buildCorpus(input: CorpusInput): Promise<AttackCase[]> {
  const { alg, token, signing, attacker } = input;
  const { h, p, s, header, payload } = decodeToken(token);
  const now = Math.floor(Date.now() / 1000);
  const cases: AttackCase[] = [];
  const add = (name: string, headers: [string, string][]) => cases.push({ name, headers });
  const genuine = (hdr: Record<string, unknown>, pl: Record<string, unknown>) =>
    signToken(alg, hdr, pl, signing.key);
  const mine = attackerKeys(alg);
  const mineJwk = { ...(await exportJWK(mine.publicKey)), kid: 'attacker-key', alg };

  // alg none, every casing, with and without the signature
  for (const none of ['none', 'None', 'NONE', 'nOnE']) {
    const forged = encodeJson({ ...header, alg: none });
    add(`alg ${none}, empty signature`, bearer(`${forged}.${p}.`));
    add(`alg ${none}, original signature`, bearer(`${forged}.${p}.${s}`));
    add(`alg ${none}, no signature part`, bearer(`${forged}.${p}`));
  }
  // signature stripped, truncated, swapped
  add('signature stripped (h.p.)', bearer(`${h}.${p}.`));
  add('signature stripped (h.p)', bearer(`${h}.${p}`));
  add('signature truncated by one char', bearer(`${h}.${p}.${s.slice(0, -1)}`));
  add('signature truncated to half', bearer(`${h}.${p}.${s.slice(0, s.length / 2)}`));
  add('signature of another genuine token', bearer(`${h}.${p}.${decodeToken(input.otherToken).s}`));
  add('signature bytes all zero', bearer(`${h}.${p}.${b64u(Buffer.alloc(fromB64u(s).length))}`));
  // payload tampered, original signature kept
  for (const [name, change] of [
    ['roles + admin', { roles: ['user', 'admin'] }],
    ['sub changed', { sub: 'someone-else' }],
    ['sid changed', { sid: `${payload.sub}.AAAAAAAAAAAAAAAAAAAAAA` }],
    ['exp extended', { exp: (payload.exp as number) + 86_400 }],
  ] as const) {
    add(
      `payload tampered (${name}), original signature`,
      bearer(`${h}.${encodeJson({ ...payload, ...change })}.${s}`),
    );
  }
  // HMAC keyed with the public key
  for (const hs of ['HS256', 'HS384', 'HS512'] as const) {
    for (const [form, key] of publicKeyEncodings(signing.publicJwk)) {
      add(`${hs} keyed with the public key as ${form}`, bearer(signHmac(hs, header, payload, key)));
    }
  }
  // embedded jwk, jku, x5u
  add(
    'embedded jwk (attacker key), attacker kid',
    bearer(signToken(alg, { ...header, kid: mineJwk.kid, jwk: mineJwk }, payload, mine.privateKey)),
  );
  add(
    'embedded jwk (attacker key), genuine kid',
    bearer(signToken(alg, { ...header, jwk: mineJwk }, payload, mine.privateKey)),
  );
  add(
    'embedded jwk, no kid',
    bearer(signToken(alg, { alg, typ: header.typ, jwk: mineJwk }, payload, mine.privateKey)),
  );
  add(
    'jku to the attacker, attacker kid',
    bearer(
      signToken(
        alg,
        { ...header, kid: mineJwk.kid, jku: `${attacker.url}/jwks.json` },
        payload,
        mine.privateKey,
      ),
    ),
  );
  add(
    'jku to the attacker, genuine kid',
    bearer(signToken(alg, { ...header, jku: `${attacker.url}/jwks.json` }, payload, mine.privateKey)),
  );
  add(
    'x5u to the attacker, genuine kid',
    bearer(signToken(alg, { ...header, x5u: `${attacker.url}/cert.pem` }, payload, mine.privateKey)),
  );
  add(
    'x5u to the attacker, attacker kid',
    bearer(
      signToken(
        alg,
        { ...header, kid: mineJwk.kid, x5u: `${attacker.url}/cert.pem` },
        payload,
        mine.privateKey,
      ),
    ),
  );
  // kid injection
  const kids = [
    '../../dev/null',
    '/dev/null',
    "' OR '1'='1",
    "x'; DROP TABLE keys;--",
    '$(touch /tmp/tessera-kid)',
    '`id`',
    '| cat /etc/passwd',
    '%00',
    'k'.repeat(10 * 1024),
  ];
  for (const kid of kids) {
    const label = kid.length > 40 ? `${kid.length}-byte kid` : `kid ${JSON.stringify(kid)}`;
    add(`${label}, attacker key`, bearer(signToken(alg, { ...header, kid }, payload, mine.privateKey)));
  }
  add(
    'kid ../../dev/null, HS256 with an empty key',
    bearer(signHmac('HS256', { ...header, kid: '../../dev/null' }, payload, '')),
  );
  for (const other of ALGS.filter((a) => a !== alg)) {
    const key = attackerKeys(other).privateKey;
    add(
      `genuine kid with alg ${other} (attacker key)`,
      bearer(signToken(other, { ...header, alg: other }, payload, key)),
    );
  }
  // ECDSA r = s = 0 and r = s = n, raw (P1363) and DER
  const es = encodeJson({ ...header, alg: 'ES256' });
  const zero = Buffer.alloc(32);
  for (const [name, sig] of [
    ['r=s=0 raw', Buffer.concat([zero, zero])],
    ['r=s=n raw', Buffer.concat([P256_N, P256_N])],
    ['r=0 s=n raw', Buffer.concat([zero, P256_N])],
    ['r=s=0 DER', derSignature(zero, zero)],
    ['r=s=n DER', derSignature(P256_N, P256_N)],
  ] as const) {
    add(`ES256 ${name}, genuine kid`, bearer(`${es}.${p}.${b64u(sig)}`));
  }
  // header checks with the genuine key
  add(
    'unknown crit header',
    bearer(genuine({ ...header, crit: ['x-tessera-unknown'], 'x-tessera-unknown': true }, payload)),
  );
  add('crit b64 (unencoded payload)', bearer(genuine({ ...header, crit: ['b64'], b64: false }, payload)));
  for (const typ of ['JWT', 'jwt', 'secevent+jwt', 'dpop+jwt', undefined]) {
    const { typ: _t, ...rest } = header;
    add(`typ ${typ ?? 'absent'}`, bearer(genuine(typ === undefined ? rest : { ...rest, typ }, payload)));
  }
  // duplicate JSON keys (a parser differential), signed with the genuine key
  const payloadJson = JSON.stringify(payload);
  add(
    'duplicate sub (forged first)',
    bearer(signInput(alg, h, b64u(`{"sub":"someone-else",${payloadJson.slice(1)}`), signing.key)),
  );
  add(
    'duplicate sub (forged last)',
    bearer(signInput(alg, h, b64u(`${payloadJson.slice(0, -1)},"sub":"someone-else"}`), signing.key)),
  );
  add(
    'duplicate roles (admin last)',
    bearer(signInput(alg, h, b64u(`${payloadJson.slice(0, -1)},"roles":["admin"]}`), signing.key)),
  );
  add(
    'duplicate alg in the header',
    bearer(signInput(alg, b64u(`{"alg":"none",${JSON.stringify(header).slice(1)}`), p, signing.key)),
  );
  // claims, signed with the genuine key
  const without = (name: string) => Object.fromEntries(Object.entries(payload).filter(([k]) => k !== name));
  for (const [name, claims] of [
    ['expired', { ...payload, iat: now - 7200, exp: now - 3600 }],
    ['not yet valid (nbf in an hour)', { ...payload, nbf: now + 3600 }],
    ['issued in the future', { ...payload, iat: now + 3600, exp: now + 3900 }],
    ['wrong iss', { ...payload, iss: 'https://evil.example' }],
    ['iss with a trailing slash', { ...payload, iss: `${payload.iss}/` }],
    ['wrong aud', { ...payload, aud: 'another-audience' }],
    ['aud list without ours', { ...payload, aud: ['a', 'b'] }],
    ['missing sid', without('sid')],
    ['missing sub', without('sub')],
    ['missing exp', without('exp')],
    ['missing iat', without('iat')],
    ['missing jti', without('jti')],
    ['roles a string', { ...payload, roles: 'admin' }],
    ['lifetime longer than the access TTL (30 days)', { ...payload, iat: now, exp: now + 30 * 86_400 }],
    ['empty sid', { ...payload, sid: '' }],
  ] as const) {
    add(`claims: ${name}`, bearer(genuine(header, claims as Record<string, unknown>)));
  }
  // header and claim types, other serializations
  for (const [name, hdr] of [
    ['alg as an array', { ...header, alg: [alg] }],
    ['alg null', { ...header, alg: null }],
    ['kid as a number', { ...header, kid: 1 }],
    ['kid as an object', { ...header, kid: { $ne: '' } }],
  ] as const) {
    add(`header: ${name}`, bearer(genuine(hdr as Record<string, unknown>, payload)));
  }
  for (const [name, claims] of [
    ['exp as a string', { ...payload, exp: String(payload.exp) }],
    ['sub as a number', { ...payload, sub: 42 }],
    ['sid as an array', { ...payload, sid: [payload.sid] }],
  ] as const) {
    add(`claims: ${name}`, bearer(genuine(header, claims as Record<string, unknown>)));
  }
  add(
    'JWS JSON serialization (flattened)',
    bearer(b64u(JSON.stringify({ protected: h, payload: p, signature: s }))),
  );
  add(
    'JWE-shaped token (5 parts)',
    bearer(`${encodeJson({ alg: 'dir', enc: 'A256GCM' })}..${b64u('iv')}.${p}.${b64u('tag')}`),
  );
  add('four parts', bearer(`${h}.${p}.${s}.${s}`));
  // other credentials presented as access tokens
  add('refresh token as access token', bearer(input.refreshToken));
  add('opaque session token as access token', bearer(`tss_${payload.sid}.${b64u(Buffer.alloc(32, 7))}`));
  add('refresh token in the access cookie', [['cookie', `tessera_access=${input.refreshToken}`]]);
  // size and shape
  add('100 KB token', bearer(`${h}.${'A'.repeat(100 * 1024)}.${s}`));
  add('100 KB token in the cookie', [['cookie', `tessera_access=${'A'.repeat(100 * 1024)}`]]);
  add(
    '6 KB token signed with the genuine key',
    bearer(genuine(header, { ...payload, pad: 'x'.repeat(6 * 1024) })),
  );
  add('space inside the token', bearer(`${token.slice(0, 20)} ${token.slice(20)}`));
  add('tab inside the token', bearer(`${token.slice(0, 20)}\t${token.slice(20)}`));
  add('two Authorization headers (forged first)', [
    ...bearer(`${h}.${encodeJson({ ...payload, roles: ['admin'] })}.${s}`),
    ...bearer(token),
  ]);
  add('two Authorization headers (genuine first)', [
    ...bearer(token),
    ...bearer(`${h}.${encodeJson({ ...payload, roles: ['admin'] })}.${s}`),
  ]);
  add('genuine token in the cookie, a forged one in the header', [
    ...bearer(`${h}.${encodeJson({ ...payload, roles: ['admin'] })}.${s}`),
    ['cookie', `tessera_access=${token}`],
  ]);
  add('Authorization with two tokens', [['authorization', `Bearer ${token} ${token}`]]);
  add('Basic scheme with the token', [['authorization', `Basic ${token}`]]);
  return cases;
}

export interface Target {
  name: string;
  send(headers: [string, string][]): Promise<RawResponse>;
}

/** The auth service's /v1/session and /v1/authorize and both example services' /whoami. */
export function targetsOf(stack: Stack): Target[] {
  const at = (name: string, url: string, path: string): Target => ({
    name,
    send: (headers) => rawRequest(url, { path, headers }),
  });
  const targets = [
    at('auth /v1/session', stack.authUrl, '/v1/session'),
    at('auth /v1/authorize', stack.authUrl, '/v1/authorize'),
  ];
  if (stack.services.orders) targets.push(at('orders (Express) /whoami', stack.services.orders, '/whoami'));
  if (stack.services.profile)
    targets.push(at('profile (Fastify) /whoami', stack.services.profile, '/whoami'));
  return targets;
}

const REFUSED = new Set([400, 401, 403, 431]);

/** Sends every case to every target, 16 requests at a time; returns what was not refused cleanly. */
export async function runCorpus(cases: AttackCase[], targets: Target[]): Promise<string[]> {
  const failures: string[] = [];
  const jobs = cases.flatMap((attack) => targets.map((target) => ({ attack, target })));
  const worker = async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const { attack, target } = job;
      const sent = attack.headers.map(([, value]) =>
        value.replace(/^Bearer /, '').replace(/^tessera_access=/, ''),
      );
      const answer = await target.send(attack.headers);
      if (!REFUSED.has(answer.status)) failures.push(`${attack.name} → ${target.name}: ${answer.status}`);
      const leaks = bodyLeaks(answer.body, sent);
      if (leaks.length > 0) failures.push(`${attack.name} → ${target.name}: ${leaks.join(', ')}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return failures;
}

/** The genuine token is accepted by every target (header and cookie). */
export async function expectGenuineAccepted(token: string, targets: Target[]): Promise<string[]> {
  const failures: string[] = [];
  for (const target of targets) {
    for (const headers of [bearer(token), [['cookie', `tessera_access=${token}`]] as [string, string][]]) {
      const answer = await target.send(headers);
      if (answer.status !== 200)
        failures.push(`genuine (${headers[0]?.[0]}) → ${target.name}: ${answer.status}`);
    }
  }
  return failures;
}
