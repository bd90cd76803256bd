import type { ErrorCode } from '@tessera/core';
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
export interface RouteSpec<B extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: HTTPMethods;
  url: string;
  summary: string;
  tag: string;
  /** `session`: bearer or cookie credential; `admin`: TESSERA_ADMIN_TOKEN bearer. */
  auth: 'none' | 'session' | 'admin';
  body?: { schema: B; media: 'application/json' | 'application/x-www-form-urlencoded'; optional?: boolean };
  params?: P;
  responses: Record<number, ResponseDoc>;
  /** Error codes this endpoint answers with (documentation). */
  errors: ErrorCode[];
  /** Runs before the body is validated (admin bearer check), so an unauthorised caller learns nothing. */
  authorize?(request: FastifyRequest): void;
  /** Left out of the OpenAPI document. */
  hidden?: boolean;
  handler(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { body: z.infer<B>; params: z.infer<P> },
  ): Promise<unknown>;
}

/** Identity function that keeps the body/params types for the handler. */
export function defineRoute<B extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined>(
  spec: RouteSpec<B, P>,
): RouteSpec<B, P> {
  return spec;
}
