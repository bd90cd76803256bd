import type { ErrorCode, SessionRecord } from '@tessera/core';
import type { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { z } from 'zod';

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Media type of `schema`. @default 'application/json' */
  media?: string;
  headers?: Record<string, string>;
}

/**
 * One endpoint: documentation, validation and handler in one place. The OpenAPI document is
 * generated from these, so what is documented is what is validated.
 */
/**
 * How a route authenticates, done by `registerRoutes` before the handler runs (one place):
 * `session`: bearer or cookie credential (CSRF rule included), checked against the store
 * after the input is validated, the session handed to the handler; `admin`:
 * `TESSERA_ADMIN_TOKEN` bearer, checked before the body is validated, so an unauthorised
 * caller learns nothing; `forwarded`: a session credential the gateway route checks itself
 * (revocation set while the feed is current, else the store); `none`.
 */
export type RouteAuth = 'none' | 'session' | 'admin' | 'forwarded';

export interface RouteSpec<
  B extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
  A extends RouteAuth = RouteAuth,
> {
  method: HTTPMethods;
  url: string;
  summary: string;
  tag: string;
  auth: A;
  body?: { schema: B; media: 'application/json' | 'application/x-www-form-urlencoded'; optional?: boolean };
  params?: P;
  responses: Record<number, ResponseDoc>;
  /** Error codes this endpoint answers with (documentation). */
  errors: ErrorCode[];
  /** `auth: 'session'`: runs when authentication failed, before the error is answered. */
  onAuthFailure?(request: FastifyRequest, reply: FastifyReply, error: unknown): void;
  /** Left out of the OpenAPI document. */
  hidden?: boolean;
  handler(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { body: z.infer<B>; params: z.infer<P>; session: A extends 'session' ? SessionRecord : undefined },
  ): unknown;
}

/** Identity function that keeps the body/params types for the handler. */
export function defineRoute<
  B extends z.ZodType = z.ZodUndefined,
  P extends z.ZodType = z.ZodUndefined,
  A extends RouteAuth = RouteAuth,
>(spec: RouteSpec<B, P, A>): RouteSpec<B, P, A> {
  return spec;
}
