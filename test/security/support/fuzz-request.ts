import fc from 'fast-check';

/** Credentials the fuzzer may use, read when a request is generated (they change during a run). */
export interface FuzzTokens {
  /** A genuine access token (only ever sent mangled). */
  genuine(): string;
  rootAccess(): string;
  rootRefresh(): string;
  admin: string;
}

/** One raw HTTP request as the fuzzer sends it. */
export interface FuzzRequest {
  method: string;
  path: string;
  contentType: string;
  authorization: string | null;
  cookie: string | null;
  extra: [string, string][];
  body: string | Buffer | null;
  target: 'auth' | 'orders' | 'profile';
}

/**
 * Random requests: bodies (bytes, JSON, 50 000-deep nesting, login-shaped), headers, cookies,
 * content types, methods, odd URL encodings; sometimes with a real credential.
 */
export function fuzzRequest(tokens: FuzzTokens): fc.Arbitrary<FuzzRequest> {
  /** Header-value bytes: visible ASCII, space, tab and obs-text (0x80-0xff); never CR or LF. */
  const headerChar = fc
    .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff }))
    .map((c) => String.fromCharCode(c));
  const headerValue = fc.string({ unit: headerChar, maxLength: 120 });
  const pathChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
  const oddEncodings = [
    '%00',
    '%2e%2e/',
    '%252e%252e/',
    '%ZZ',
    '%',
    '%c0%af',
    '/..;/',
    '?a=%ff',
    '%e2%80%ae',
    '//',
    '/./',
    '%0d%0a',
    '?%',
  ];
  const path = fc
    .tuple(
      fc.constantFrom(
        '/v1/login',
        '/v1/refresh',
        '/v1/logout',
        '/v1/logout/all',
        '/v1/session',
        '/v1/sessions',
        '/v1/sessions/root.AAAAAAAAAAAAAAAAAAAAAA',
        '/v1/authorize',
        '/v1/introspect',
        '/v1/revoke',
        '/v1/admin/users',
        '/v1/admin/users/root/sessions',
        '/login',
        '/account',
        '/healthz',
        '/whoami',
        '/admin',
        '/.well-known/jwks.json',
      ),
      fc.array(fc.oneof(fc.constantFrom(...oddEncodings), fc.string({ unit: pathChar, maxLength: 12 })), {
        maxLength: 3,
      }),
    )
    .map(([base, extra]) => base + extra.join(''));
  const deepJson = fc
    .tuple(fc.integer({ min: 1, max: 50_000 }), fc.boolean())
    .map(([depth, arrays]) =>
      arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    );
  const loginShaped = fc
    .record(
      {
        username: fc.oneof(fc.anything(), fc.constant('root')),
        password: fc.anything(),
        force: fc.anything(),
        refreshToken: fc.oneof(
          fc.anything(),
          fc.constant(0).map(() => tokens.rootRefresh()),
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v) ?? '{}');
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 1500 }).map((b) => Buffer.from(b)),
    fc.json({ maxDepth: 6 }),
    deepJson,
    loginShaped,
    fc.constant(''),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/x-www-form-urlencoded',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/problem+json',
    'application/merge-patch+json',
    '*/*',
    '',
  );
  const cookieName = fc.constantFrom(
    'tessera_access',
    'tessera_refresh',
    'tessera_session',
    '__Host-tessera_access',
    'a',
    '',
  );
  const cookie = fc
    .array(
      fc.tuple(
        cookieName,
        fc.oneof(
          headerValue,
          fc.constant(0).map(() => tokens.rootAccess()),
          fc.constant(0).map(() => tokens.rootRefresh()),
        ),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; '));
  const credential = fc.oneof(
    headerValue.map((v) => `Bearer ${v}`),
    fc.constantFrom('Bearer', 'Basic', 'bearer  x'),
    fc
      .integer({ min: 0, max: 200 })
      .map((at) => `Bearer ${tokens.genuine().slice(0, at)}~${tokens.genuine().slice(at)}`),
    fc.constant(0).map(() => `Bearer ${tokens.rootAccess()}`),
    fc.constant(0).map(() => `Bearer ${tokens.admin}`),
  );
  const extraHeader = fc.tuple(
    fc.constantFrom(
      'origin',
      'x-tessera-transfer',
      'x-tessera-csrf',
      'x-forwarded-for',
      'x-forwarded-uri',
      'x-original-uri',
      'x-forwarded-method',
      'accept',
      'accept-encoding',
      'content-encoding',
      'x-request-id',
      'user-agent',
      'x-original-method',
      'expect',
    ),
    headerValue,
  );
  return fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'get'),
    path,
    contentType,
    authorization: fc.option(credential),
    cookie: fc.option(cookie),
    extra: fc.array(extraHeader, { maxLength: 4 }),
    body: fc.option(body),
    target: fc.constantFrom('auth', 'auth', 'auth', 'orders', 'profile'),
  });
}
