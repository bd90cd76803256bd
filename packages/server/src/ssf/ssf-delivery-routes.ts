import { NotFoundError } from '@tessera/core/internal';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../http/context.ts';
import { defineRoute, type RouteSpec } from '../http/route-spec.ts';
import { Problem } from '../http/schemas.ts';
import { PollBody, PollResponse, StreamIdParams } from './ssf-schemas.ts';

const problem = (description: string) => ({
  description,
  schema: Problem,
  media: 'application/problem+json',
});
const SET_MEDIA = 'application/secevent+jwt';
const DEFAULT_MAX_EVENTS = 100;

/**
 * Lets `POST /v1/ssf/receiver` read an `application/secevent+jwt` body as text, and ends the
 * long polls when the service shuts down (so they do not hold `close()` for the poll wait).
 */
export function registerSsfHttp(app: FastifyInstance, ctx: Pick<AppContext, 'ssf'>, bodyLimit: number): void {
  app.addContentTypeParser(SET_MEDIA, { parseAs: 'string', bodyLimit }, (_request, body, done) =>
    done(null, body),
  );
  app.addHook('preClose', async () => {
    ctx.ssf.transmitter.stopWaiting();
  });
}

/** RFC 8936 poll endpoint and the RFC 8935 receiver endpoint. */
export function ssfDeliveryRoutes(ctx: AppContext): RouteSpec[] {
  const poll = defineRoute({
    method: 'POST',
    url: '/v1/ssf/poll/:streamId',
    summary:
      'RFC 8936 poll: acknowledge SETs and fetch the next ones (long polling unless returnImmediately)',
    tag: 'security events',
    auth: 'admin',
    params: StreamIdParams,
    body: { schema: PollBody, media: 'application/json', optional: true },
    responses: { 200: { description: 'SETs by jti', schema: PollResponse }, 401: problem('unauthorized') },
    errors: ['invalid_request', 'unauthorized', 'not_found', 'store_unavailable'],
    async handler(request, reply, { body, params }) {
      const { store, transmitter, metrics } = ctx.ssf;
      const stream = await store.getStream(params.streamId);
      if (stream?.method !== 'poll') throw new NotFoundError('No such poll stream');
      const acked = await store.ackJtis(stream, body?.ack ?? []);
      if (acked > 0) metrics.delivered.inc({ stream: stream.id }, acked);
      const refused = Object.keys(body?.setErrs ?? {});
      if (refused.length > 0) {
        const dropped = await store.ackJtis(stream, refused);
        if (dropped > 0) metrics.failed.inc({ stream: stream.id }, dropped);
        request.log.warn({ stream: stream.id, setErrs: body?.setErrs }, 'receiver refused events; dropped');
      }
      reply.header('cache-control', 'no-store');
      const max = body?.maxEvents ?? DEFAULT_MAX_EVENTS;
      if (max === 0 || stream.status !== 'enabled') return { sets: {}, moreAvailable: false };
      let { items, more } = await store.peek(stream, max);
      if (items.length === 0 && body?.returnImmediately !== true) {
        const deadline = Date.now() + ctx.config.ssf.pollWaitMs;
        let gone = false; // the client hung up: stop waiting
        reply.raw.once('close', () => {
          gone = true;
        });
        while (items.length === 0 && !gone && !transmitter.closing && Date.now() < deadline) {
          await transmitter.wait(stream.id, Math.min(250, deadline - Date.now()));
          ({ items, more } = await store.peek(stream, max));
        }
      }
      const sets: Record<string, string> = {};
      for (const item of items) sets[item.event.jti] = await transmitter.sign(stream, item.event);
      return { sets, moreAvailable: more };
    },
  });

  const receive = defineRoute({
    method: 'POST',
    url: '/v1/ssf/receiver',
    summary:
      'RFC 8935 push receiver for SETs from TESSERA_SSF_TRUSTED_ISSUERS (CAEP session-revoked, credential-change)',
    tag: 'security events',
    auth: 'none',
    responses: {
      202: { description: 'Accepted' },
      400: { description: 'RFC 8935 error: { err, description }' },
      503: {
        description: "The issuer's JWKS could not be fetched: { err: temporarily_unavailable }, Retry-After",
      },
    },
    errors: ['store_unavailable'],
    async handler(request, reply) {
      const { metrics, receiver } = ctx.ssf;
      const media = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      const body = request.body;
      const outcome =
        media === SET_MEDIA && typeof body === 'string'
          ? await receiver.receive(body.trim())
          : ({ ok: false, err: 'invalid_request', description: `send one SET as ${SET_MEDIA}` } as const);
      reply.header('cache-control', 'no-store');
      if (!outcome.ok) {
        metrics.received.inc({ outcome: outcome.err });
        request.log.warn({ err: outcome.err, description: outcome.description }, 'SET refused');
        // 503 when the issuer's keys are out of reach: the transmitter retries instead of dropping
        const unavailable = outcome.err === 'temporarily_unavailable';
        if (unavailable) reply.header('retry-after', '5');
        return reply
          .code(unavailable ? 503 : 400)
          .type('application/json')
          .send({ err: outcome.err, description: outcome.description });
      }
      metrics.received.inc({ outcome: 'accepted' });
      if (outcome.revokedUsers.length > 0) {
        request.log.info({ users: outcome.revokedUsers.length }, 'SET revoked sessions');
      }
      return reply.code(202).send();
    },
  });

  return [poll, receive] as RouteSpec[];
}
