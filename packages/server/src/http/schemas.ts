import { z } from 'zod';

/** Request and response shapes of contract §3: one definition for validation and for OpenAPI. */

export const LoginBody = z
  .object({
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
    force: z.boolean().optional().describe('With TESSERA_CONCURRENCY=reject: end the other sessions'),
  })
  .strict()
  .meta({ id: 'LoginRequest' });

export const RefreshBody = z
  .object({ refreshToken: z.string().min(1).max(4096).optional() })
  .strict()
  .meta({ id: 'RefreshRequest', description: 'Body may be omitted when the refresh cookie is sent' });

export const Session = z
  .object({
    id: z.string(),
    userId: z.string(),
    roles: z.array(z.string()),
    createdAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    ip: z.string(),
    userAgent: z.string(),
    current: z.boolean().optional(),
  })
  .meta({ id: 'Session' });

export const TokenResponse = z
  .object({
    accessToken: z.string().optional().describe('Absent with X-Tessera-Transfer: cookie'),
    refreshToken: z.string().optional().describe('Absent in opaque mode and with cookie transfer'),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().describe('Seconds until the access token (opaque: the session) expires'),
    session: Session,
  })
  .meta({ id: 'TokenResponse' });

export const SessionInfo = z
  .object({
    session: Session,
    user: z.object({ id: z.string(), username: z.string(), roles: z.array(z.string()) }),
  })
  .meta({ id: 'SessionInfo' });

export const SessionList = z.object({ sessions: z.array(Session) }).meta({ id: 'SessionList' });

export const SessionIdParams = z.object({ id: z.string().min(1).max(200) });
export const UsernameParams = z.object({ username: z.string().min(1).max(256) });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

export const Jwks = z
  .object({
    keys: z.array(
      z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') }),
    ),
  })
  .meta({ id: 'JWKS' });

export const Metadata = z
  .looseObject({
    issuer: z.string(),
    jwks_uri: z.string(),
    introspection_endpoint: z.string(),
    revocation_endpoint: z.string(),
    access_token_ttl: z
      .number()
      .int()
      .optional()
      .describe(
        'jwt mode: TESSERA_ACCESS_TTL in seconds; guards refuse tokens living longer (Tessera extension)',
      ),
  })
  .meta({ id: 'AuthorizationServerMetadata' });

export const TokenForm = z
  .object({ token: z.string().min(1).max(4096), token_type_hint: z.string().max(64).optional() })
  .meta({ id: 'TokenRequest' });

export const Introspection = z
  .object({
    active: z.boolean(),
    sub: z.string().optional(),
    sid: z.string().optional(),
    exp: z.number().int().optional(),
    iat: z.number().int().optional(),
    roles: z.array(z.string()).optional(),
    token_type: z.string().optional(),
    iss: z.string().optional(),
    aud: z.string().optional(),
  })
  .meta({ id: 'Introspection' });

export const CreateUserBody = z
  .object({
    username: z.string().min(1).max(256),
    password: z.string().min(8).max(1024),
    roles: z.array(z.string().min(1).max(64)).max(100).default([]),
  })
  .strict()
  .meta({ id: 'CreateUserRequest' });

export const CreatedUser = z.object({ id: z.string() }).meta({ id: 'CreatedUser' });

export const Health = z.object({ status: z.string() }).meta({ id: 'Health' });
