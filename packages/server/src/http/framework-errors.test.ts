import { createTestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';

describe("Fastify's own errors (issue 9 §8)", () => {
  it('a malformed URL is problem+json 400 invalid_request and never echoes the input', async () => {
    const t = await createTestApp();
    try {
      for (const url of ['/v1/sessions/%zz', '/v1/sessions/%E0%A4%A', '/v1/admin/users/%zz/sessions']) {
        const res = await t.app.inject({ method: 'DELETE', url, headers: { authorization: 'Bearer x' } });
        expect(res.statusCode, url).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const body = res.json() as Record<string, unknown>;
        expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
        expect(body.code).toBe('invalid_request');
        expect(res.body).not.toContain('%');
        expect(res.body).not.toContain('FST_');
      }
    } finally {
      await t.close();
    }
  });
});
