import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '@tessera/core';
import { InvalidRequestError, NotFoundError } from '@tessera/core/internal';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AppContext } from '../http/context.ts';
import { defineRoute, type RouteSpec } from '../http/route-spec.ts';
import { Problem } from '../http/schemas.ts';
import { POLL_METHOD, PUSH_METHOD, streamWants, VERIFICATION, verificationEvent } from './events.ts';
import {
  CreateStreamBody,
  StreamConfiguration,
  StreamStatusBody,
  TransmitterMetadata,
  UpdateStreamBody,
  VerifyBody,
} from './ssf-schemas.ts';
import { type StreamRecord, toStreamConfiguration } from './stream-record.ts';
import { deleteStream, newStreamRecord, saveStream } from './stream-writes.ts';

const problem = (description: string) => ({
  description,
  schema: Problem,
  media: 'application/problem+json',
});
const ADMIN_ERRORS: ErrorCode[] = ['invalid_request', 'unauthorized', 'not_found', 'store_unavailable'];
const JSON_BODY = 'application/json' as const;

function queryStreamId(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.stream_id;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new InvalidRequestError('stream_id must be a stream id');
  }
  return value;
}

/** The SSF transmitter metadata (SSF 1.0 §7.1). */
export function buildSsfMetadata(issuer: string): Record<string, unknown> {
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    delivery_methods_supported: [PUSH_METHOD, POLL_METHOD],
    configuration_endpoint: `${issuer}/v1/ssf/streams`,
    status_endpoint: `${issuer}/v1/ssf/status`,
    verification_endpoint: `${issuer}/v1/ssf/verify`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
    default_subjects: 'ALL',
  };
}

/** Discovery, stream management (SSF 1.0 §8.1), status and verification. */
export function ssfRoutes(ctx: AppContext): RouteSpec[] {
  const show = (stream: StreamRecord) => toStreamConfiguration(stream, ctx.config.issuer);
  const streamOrThrow = async (id: string | undefined) => {
    if (id === undefined) throw new InvalidRequestError('stream_id is required');
    const stream = await ctx.ssf.store.getStream(id);
    if (!stream || stream.method === 'bcl') throw new NotFoundError('No such stream');
    return stream;
  };
  const save = (stream: StreamRecord) => saveStream(ctx, stream);

  const metadata = defineRoute({
    method: 'GET',
    url: '/.well-known/ssf-configuration',
    summary: 'SSF 1.0 transmitter metadata',
    tag: 'security events',
    auth: 'none',
    responses: { 200: { description: 'Transmitter metadata', schema: TransmitterMetadata } },
    errors: [],
    async handler(_request, reply) {
      reply.header('cache-control', 'public, max-age=300');
      return buildSsfMetadata(ctx.config.issuer);
    },
  });

  const create = defineRoute({
    method: 'POST',
    url: '/v1/ssf/streams',
    summary: 'Create an event stream (push: RFC 8935, poll: RFC 8936)',
    tag: 'security events',
    auth: 'admin',
    body: { schema: CreateStreamBody, media: JSON_BODY },
    responses: { 201: { description: 'Created', schema: StreamConfiguration }, 401: problem('unauthorized') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { body }) {
      const push = body.delivery.method === PUSH_METHOD;
      if (push && !body.delivery.endpoint_url)
        throw new InvalidRequestError('push delivery needs endpoint_url');
      const id = randomUUID();
      const stream = newStreamRecord(ctx, {
        id,
        method: push ? 'push' : 'poll',
        aud: body.aud ?? (push ? (body.delivery.endpoint_url as string) : `urn:tessera:ssf:${id}`),
        ...(push && body.delivery.endpoint_url ? { endpointUrl: body.delivery.endpoint_url } : {}),
        ...(push && body.delivery.authorization_header
          ? { authorizationHeader: body.delivery.authorization_header }
          : {}),
        eventsRequested: [...new Set(body.events_requested ?? [])],
        ...(body.description !== undefined ? { description: body.description } : {}),
      });
      await save(stream);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(show(stream));
    },
  });

  const read = defineRoute({
    method: 'GET',
    url: '/v1/ssf/streams',
    summary: 'One stream (?stream_id=) or every stream',
    tag: 'security events',
    auth: 'admin',
    responses: { 200: { description: 'Stream configuration(s)' }, 401: problem('unauthorized') },
    errors: ADMIN_ERRORS,
    async handler(request, reply) {
      const id = queryStreamId(request);
      reply.header('cache-control', 'no-store');
      if (id !== undefined) {
        const stream = await streamOrThrow(id);
        await ctx.ssf.store.touchStream(stream);
        return show(stream);
      }
      return (await ctx.ssf.store.listStreams()).filter((s) => s.method !== 'bcl').map(show);
    },
  });

  /** PATCH changes what the body names; PUT (replace) also clears what it leaves out. */
  const applyChange = (stream: StreamRecord, body: z.infer<typeof UpdateStreamBody>, replace: boolean) => {
    if (replace && !body.delivery)
      throw new InvalidRequestError('PUT replaces the stream: delivery is required');
    if (body.events_requested || replace) stream.eventsRequested = [...new Set(body.events_requested ?? [])];
    if (body.description !== undefined) stream.description = body.description;
    else if (replace) delete stream.description;
    if (body.delivery) {
      const wantsPush = body.delivery.method === PUSH_METHOD;
      if (wantsPush !== (stream.method === 'push')) {
        throw new InvalidRequestError('the delivery method of a stream cannot change; create a new stream');
      }
      if (wantsPush && replace && !body.delivery.endpoint_url) {
        throw new InvalidRequestError('push delivery needs endpoint_url');
      }
      if (wantsPush && body.delivery.endpoint_url) stream.endpointUrl = body.delivery.endpoint_url;
      if (wantsPush && body.delivery.authorization_header) {
        stream.authorizationHeader = body.delivery.authorization_header;
      } else if (replace) delete stream.authorizationHeader;
    }
  };

  const changeRoute = (method: 'PATCH' | 'PUT') =>
    defineRoute({
      method,
      url: '/v1/ssf/streams',
      summary:
        method === 'PATCH' ? 'Change some properties of a stream' : 'Replace the properties of a stream',
      tag: 'security events',
      auth: 'admin',
      body: { schema: UpdateStreamBody, media: JSON_BODY },
      responses: {
        200: { description: 'Updated', schema: StreamConfiguration },
        401: problem('unauthorized'),
      },
      errors: ADMIN_ERRORS,
      async handler(_request, reply, { body }) {
        const stream = await streamOrThrow(body.stream_id);
        applyChange(stream, body, method === 'PUT');
        await save(stream);
        reply.header('cache-control', 'no-store');
        return show(stream);
      },
    });
  const update = changeRoute('PATCH');
  const replace = changeRoute('PUT');

  const remove = defineRoute({
    method: 'DELETE',
    url: '/v1/ssf/streams',
    summary: 'Delete a stream (?stream_id=) and the events still queued on it',
    tag: 'security events',
    auth: 'admin',
    responses: { 204: { description: 'Deleted' }, 401: problem('unauthorized'), 404: problem('not_found') },
    errors: ADMIN_ERRORS,
    async handler(request, reply) {
      const stream = await streamOrThrow(queryStreamId(request));
      await deleteStream(ctx, stream.id);
      return reply.code(204).send();
    },
  });

  const statusOf = (stream: StreamRecord) => ({
    stream_id: stream.id,
    status: stream.status,
    ...(stream.statusReason !== undefined ? { reason: stream.statusReason } : {}),
  });

  const readStatus = defineRoute({
    method: 'GET',
    url: '/v1/ssf/status',
    summary: 'Status of a stream (?stream_id=): enabled, paused (events held) or disabled (events dropped)',
    tag: 'security events',
    auth: 'admin',
    responses: { 200: { description: 'Status', schema: StreamStatusBody }, 401: problem('unauthorized') },
    errors: ADMIN_ERRORS,
    async handler(request, reply) {
      reply.header('cache-control', 'no-store');
      return statusOf(await streamOrThrow(queryStreamId(request)));
    },
  });

  const writeStatus = defineRoute({
    method: 'POST',
    url: '/v1/ssf/status',
    summary: 'Enable, pause or disable a stream',
    tag: 'security events',
    auth: 'admin',
    body: { schema: StreamStatusBody, media: JSON_BODY },
    responses: { 200: { description: 'Status', schema: StreamStatusBody }, 401: problem('unauthorized') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { body }) {
      const stream = await streamOrThrow(body.stream_id);
      stream.status = body.status;
      if (body.reason !== undefined) stream.statusReason = body.reason;
      else delete stream.statusReason;
      await save(stream);
      reply.header('cache-control', 'no-store');
      return statusOf(stream);
    },
  });

  const verify = defineRoute({
    method: 'POST',
    url: '/v1/ssf/verify',
    summary: 'Ask for a verification event on a stream (SSF 1.0 §8.1.4)',
    tag: 'security events',
    auth: 'admin',
    body: { schema: VerifyBody, media: JSON_BODY },
    responses: { 204: { description: 'Queued' }, 401: problem('unauthorized'), 404: problem('not_found') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { body }) {
      const stream = await streamOrThrow(body.stream_id);
      if (streamWants(stream, VERIFICATION)) {
        await ctx.ssf.transmitter.publish(stream, [verificationEvent(stream, randomUUID(), body.state)]);
      }
      await ctx.ssf.store.touchStream(stream);
      return reply.code(204).send();
    },
  });

  return [metadata, create, read, update, replace, remove, readStatus, writeStatus, verify] as RouteSpec[];
}
