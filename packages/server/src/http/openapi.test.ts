import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';
import { generateOpenApiDocument } from '../index.ts';

const DOC_PATH = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url));

describe('OpenAPI document', () => {
  it('docs/openapi.json equals the document generated from the route schemas (UPDATE_OPENAPI=1 rewrites it)', () => {
    const generated = `${JSON.stringify(generateOpenApiDocument(), null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(DOC_PATH, generated);
    expect(readFileSync(DOC_PATH, 'utf8')).toBe(generated);
  });

  it('/openapi.json serves the same document and lists every contract endpoint', async () => {
    const t = await createTestApp();
    try {
      const served = (await t.app.inject({ url: '/openapi.json' })).json();
      expect(served).toEqual(generateOpenApiDocument());
      expect(served.openapi).toBe('3.1.0');
      const paths = served.paths as Record<string, Record<string, unknown>>;
      for (const [method, path] of [
        ['post', '/v1/login'],
        ['post', '/v1/refresh'],
        ['post', '/v1/logout'],
        ['post', '/v1/logout/all'],
        ['get', '/v1/session'],
        ['get', '/v1/sessions'],
        ['delete', '/v1/sessions/{id}'],
        ['get', '/.well-known/jwks.json'],
        ['get', '/.well-known/oauth-authorization-server'],
        ['post', '/v1/introspect'],
        ['post', '/v1/revoke'],
        ['get', '/v1/authorize'],
        ['post', '/v1/admin/users'],
        ['get', '/v1/admin/users/{username}/sessions'],
        ['delete', '/v1/admin/users/{username}/sessions'],
        ['get', '/healthz'],
        ['get', '/readyz'],
        ['get', '/metrics'],
      ]) {
        expect(paths[path as string]?.[method as string], `${method} ${path}`).toBeDefined();
      }
    } finally {
      await t.close();
    }
  });
});
