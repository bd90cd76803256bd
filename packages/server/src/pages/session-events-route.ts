import type { AppContext } from '../http/context.ts';
import { defineRoute, type RouteSpec } from '../http/route-spec.ts';
import { Problem } from '../http/schemas.ts';

/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 25_000;

/**
 * `GET /v1/session/events`: a `text/event-stream` of the caller's own session (cookie or
 * bearer). It sends `event: session` once, a comment every 25 s, and `event: ended` with
 * `{ "code" }` (`session_revoked`, `session_expired`) when the session ends, then closes.
 * On shutdown it closes without `ended` (the browser reconnects to another instance).
 */
export function sessionEventsRoute(ctx: AppContext): RouteSpec {
  return defineRoute({
    method: 'GET',
    url: '/v1/session/events',
    summary: "Event stream of the caller's own session: `ended` when it is revoked or expires",
    tag: 'sessions',
    auth: 'session',
    responses: {
      200: {
        description:
          'text/event-stream: `session` on connect, then `ended` with { code } and the end of the stream',
        media: 'text/event-stream',
      },
      401: {
        description: 'invalid_token, token_expired, session_revoked',
        schema: Problem,
        media: 'application/problem+json',
      },
    },
    errors: ['invalid_token', 'token_expired', 'session_expired', 'session_revoked', 'store_unavailable'],
    async handler(request, reply, { session }) {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no', // nginx: pass events through at once
        'x-content-type-options': 'nosniff',
        'x-request-id': request.id,
      });
      res.write(`retry: 3000\nevent: session\ndata: ${JSON.stringify({ id: session.id })}\n\n`);
      const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearInterval(heartbeat);
        unwatch();
      };
      const unwatch = ctx.sessionEvents.watch(
        { id: session.id, userId: session.userId, createdAt: session.createdAt },
        (code) => {
          if (code !== 'closing') res.write(`event: ended\ndata: ${JSON.stringify({ code })}\n\n`);
          finish();
          res.end();
        },
      );
      request.raw.once('close', finish);
      res.once('close', finish);
      return reply;
    },
  });
}
