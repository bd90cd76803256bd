import { z } from 'zod';
import type { RouteSpec } from './route-spec.ts';

type JsonObject = Record<string, unknown>;

/** Named schemas (zod `.meta({ id })`) collected into `components.schemas`, keyed `Name` or `NameInput`. */
type Components = Record<string, JsonObject>;

function rewriteRefs(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, rename));
  if (value && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] =
        key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')
          ? `#/components/schemas/${rename(inner.slice(8))}`
          : rewriteRefs(inner, rename);
    }
    return out;
  }
  return value;
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output', components: Components): JsonObject {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonObject;
  const { $schema: _schema, id: _id, $defs, ...rest } = json;
  // Request bodies may differ from responses (defaults), so input shapes get their own names.
  const rename = (name: string) => (io === 'input' && !name.endsWith('Request') ? `${name}Input` : name);
  for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonObject>)) {
    const { id: _defId, ...body } = def;
    components[rename(name)] = rewriteRefs(body, rename) as JsonObject;
  }
  return rewriteRefs(rest, rename) as JsonObject;
}

function security(spec: RouteSpec): JsonObject[] | undefined {
  if (spec.auth === 'admin') return [{ adminBearer: [] }];
  if (spec.auth === 'session' || spec.auth === 'forwarded')
    return [{ bearer: [] }, { accessCookie: [] }, { sessionCookie: [] }];
  return undefined;
}

function operation(spec: RouteSpec, components: Components): JsonObject {
  const parameters = spec.params
    ? Object.keys((toJsonSchema(spec.params, 'input', components).properties ?? {}) as JsonObject).map(
        (name) => ({
          name,
          in: 'path',
          required: true,
          schema: { type: 'string' },
        }),
      )
    : undefined;
  const responses: JsonObject = {};
  for (const [status, doc] of Object.entries(spec.responses)) {
    const headers = doc.headers
      ? Object.fromEntries(
          Object.entries(doc.headers).map(([name, description]) => [
            name,
            { description, schema: { type: 'string' } },
          ]),
        )
      : undefined;
    responses[status] = {
      description: doc.description,
      ...(headers ? { headers } : {}),
      ...(doc.schema
        ? {
            content: {
              [doc.media ?? 'application/json']: { schema: toJsonSchema(doc.schema, 'output', components) },
            },
          }
        : doc.media
          ? { content: { [doc.media]: { schema: { type: 'string' } } } }
          : {}),
    };
  }
  if (spec.errors.includes('store_unavailable') && !responses['503']) {
    responses['503'] = {
      description: 'store_unavailable (with Retry-After)',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  const sec = security(spec);
  return {
    operationId: `${spec.method.toLowerCase()}${spec.url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: spec.summary,
    tags: [spec.tag],
    ...(sec ? { security: sec } : {}),
    ...(parameters ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: !spec.body.optional,
            content: { [spec.body.media]: { schema: toJsonSchema(spec.body.schema, 'input', components) } },
          },
        }
      : {}),
    responses,
    'x-error-codes': spec.errors,
  };
}

/** OpenAPI 3.1 document generated from the route specs (independent of the runtime configuration). */
export function buildOpenApiDocument(specs: RouteSpec[], problemSchema: z.ZodType): JsonObject {
  const paths: Record<string, JsonObject> = {};
  const components: Components = {};
  toJsonSchema(problemSchema, 'output', components);
  for (const spec of specs) {
    if (spec.hidden) continue;
    const path = spec.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [spec.method.toLowerCase()]: operation(spec, components) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera auth service',
      version: '0.1.0',
      description:
        'Session management for microservices. Every error is application/problem+json ' +
        '{ type, title, status, detail, code }. See docs/api.md for cookies, CSRF and error codes.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Access token (jwt mode) or session token (opaque mode)',
        },
        accessCookie: { type: 'apiKey', in: 'cookie', name: 'tessera_access' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'tessera_session' },
        adminBearer: { type: 'http', scheme: 'bearer', description: 'TESSERA_ADMIN_TOKEN' },
      },
    },
  };
}
