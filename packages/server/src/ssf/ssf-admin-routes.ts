import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '@tessera/core';
import { NotFoundError } from '@tessera/core/internal';
import type { AppContext } from '../http/context.ts';
import { defineRoute, type RouteSpec } from '../http/route-spec.ts';
import { Problem, UsernameParams } from '../http/schemas.ts';
import { revokeEverySession } from './revoke-user.ts';
import {
  BackchannelClient,
  BackchannelClientBody,
  ClientIdParams,
  PasswordBody,
  StreamSummaryList,
} from './ssf-schemas.ts';
import type { SsfStore } from './ssf-store.ts';
import { type StreamRecord, toBackchannelClient } from './stream-record.ts';
import { deleteStream, newStreamRecord, saveStream } from './stream-writes.ts';

const problem = (description: string) => ({
  description,
  schema: Problem,
  media: 'application/problem+json',
});
const ADMIN_ERRORS: ErrorCode[] = ['invalid_request', 'unauthorized', 'not_found', 'store_unavailable'];

/** One line of `tessera streams list` / `GET /v1/admin/streams`. */
export async function summarizeStream(
  store: SsfStore,
  stream: StreamRecord,
): Promise<Record<string, unknown>> {
  return {
    stream_id: stream.id,
    method: stream.method,
    status: stream.status,
    aud: stream.aud,
    ...(stream.endpointUrl ? { endpoint_url: stream.endpointUrl } : {}),
    events: stream.method === 'bcl' ? ['backchannel-logout'] : stream.eventsRequested,
    queued: await store.queueLength(stream),
    created_at: new Date(stream.createdAt).toISOString(),
  };
}

/** Back-channel logout registrations, the stream overview and the password change (credential-change). */
export function ssfAdminRoutes(ctx: AppContext): RouteSpec[] {
  const registerClient = defineRoute({
    method: 'POST',
    url: '/v1/admin/backchannel-logout',
    summary:
      'Register a service’s OIDC backchannel_logout_uri: it gets a logout_token for every revoked session',
    tag: 'security events',
    auth: 'admin',
    body: { schema: BackchannelClientBody, media: 'application/json' },
    responses: {
      201: { description: 'Registered', schema: BackchannelClient },
      401: problem('unauthorized'),
    },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { body }) {
      const stream = newStreamRecord(ctx, {
        id: randomUUID(),
        method: 'bcl',
        aud: body.client_id,
        endpointUrl: body.backchannel_logout_uri,
        eventsRequested: [],
      });
      await saveStream(ctx, stream);
      return reply.code(201).send(toBackchannelClient(stream));
    },
  });

  const listClients = defineRoute({
    method: 'GET',
    url: '/v1/admin/backchannel-logout',
    summary: 'Registered back-channel logout services',
    tag: 'security events',
    auth: 'admin',
    responses: { 200: { description: 'Registrations' }, 401: problem('unauthorized') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply) {
      reply.header('cache-control', 'no-store');
      const all = await ctx.ssf.store.listStreams();
      return { clients: all.filter((s) => s.method === 'bcl').map(toBackchannelClient) };
    },
  });

  const removeClient = defineRoute({
    method: 'DELETE',
    url: '/v1/admin/backchannel-logout/:id',
    summary: 'Remove a back-channel logout registration',
    tag: 'security events',
    auth: 'admin',
    params: ClientIdParams,
    responses: { 204: { description: 'Removed' }, 401: problem('unauthorized'), 404: problem('not_found') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { params }) {
      const stream = await ctx.ssf.store.getStream(params.id);
      if (stream?.method !== 'bcl') throw new NotFoundError('No such registration');
      await deleteStream(ctx, stream.id);
      return reply.code(204).send();
    },
  });

  const listStreams = defineRoute({
    method: 'GET',
    url: '/v1/admin/streams',
    summary: 'Every event stream and back-channel registration, with its queue length',
    tag: 'security events',
    auth: 'admin',
    responses: { 200: { description: 'Streams', schema: StreamSummaryList }, 401: problem('unauthorized') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply) {
      reply.header('cache-control', 'no-store');
      const all = await ctx.ssf.store.listStreams();
      return { streams: await Promise.all(all.map((s) => summarizeStream(ctx.ssf.store, s))) };
    },
  });

  const setPassword = defineRoute({
    method: 'PUT',
    url: '/v1/admin/users/:username/password',
    summary: 'Set a user’s password: every session is revoked and a CAEP credential-change is sent',
    tag: 'admin',
    auth: 'admin',
    params: UsernameParams,
    body: { schema: PasswordBody, media: 'application/json' },
    responses: { 204: { description: 'Changed' }, 401: problem('unauthorized'), 404: problem('not_found') },
    errors: ADMIN_ERRORS,
    async handler(_request, reply, { body, params }) {
      const user = await ctx.users.findByUsername(params.username);
      if (!user) throw new NotFoundError('No such user');
      await ctx.users.setPassword(user.id, body.password);
      await revokeEverySession(ctx, user);
      await ctx.ssf.transmitter.publishCredentialChange(user.id, 'update');
      return reply.code(204).send();
    },
  });

  return [registerClient, listClients, removeClient, listStreams, setPassword] as RouteSpec[];
}
