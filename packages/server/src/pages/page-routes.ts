import { isTesseraError, type SessionRecord } from '@tessera/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.ts';
import { clearCredentialCookies, readCredential } from '../http/credentials.ts';
import { defineRoute, type RouteSpec } from '../http/route-spec.ts';
import { loadPageAssets, type PageAsset, type PageAssets } from './page-assets.ts';
import { setPageHeaders } from './page-headers.ts';
import { safeReturnTo } from './return-to.ts';
import { sessionEventsRoute } from './session-events-route.ts';
import { type AccountView, endedMessage, renderAccountPage, renderLoginPage } from './templates.ts';

/** Codes after which the session is over: the page sends the browser to `/login`. */
const ENDED = new Set(['session_revoked', 'session_expired']);

function query(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

type Who =
  | { state: 'live'; session: SessionRecord }
  | { state: 'unknown' }
  | { state: 'ended'; code: string };

/** The page's view of the browser's credential: a live session, nothing usable (refresh may fix it), or over. */
async function identify(request: FastifyRequest, ctx: AppContext): Promise<Who> {
  const credential = readCredential(request, ctx);
  if (!credential) return { state: 'unknown' };
  try {
    const { session } = await ctx.sessions.authenticate(credential.token);
    request.tesseraUser = { userId: session.userId, sessionId: session.id };
    return { state: 'live', session };
  } catch (error) {
    if (!isTesseraError(error) || error.code === 'store_unavailable') throw error;
    return ENDED.has(error.code) ? { state: 'ended', code: error.code } : { state: 'unknown' };
  }
}

function assetRoute(url: string, pick: (assets: PageAssets) => PageAsset): RouteSpec {
  return defineRoute({
    method: 'GET',
    url,
    summary: `Static file of the pages (${url})`,
    tag: 'pages',
    auth: 'none',
    hidden: true,
    responses: { 200: { description: 'the file', media: 'text/plain' } },
    errors: [],
    async handler(request, reply) {
      const file = pick(await loadPageAssets());
      const versioned = query(request).v === file.hash;
      return reply
        .header('content-type', file.contentType)
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'same-origin')
        .header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(file.body);
    },
  });
}

const html = (description: string) => ({ description, media: 'text/html' });

/** `GET /login`, `GET /account` (contract §8), their static files, and `GET /v1/session/events`. */
export function pageRoutes(ctx: AppContext): RouteSpec[] {
  const login = defineRoute({
    method: 'GET',
    url: '/login',
    summary: 'Sign-in page (HTML); `return_to` must be on the issuer or an allowed origin',
    tag: 'pages',
    auth: 'none',
    responses: { 200: html('the sign-in form'), 303: { description: 'already signed in: to `return_to`' } },
    errors: ['store_unavailable'],
    async handler(request: FastifyRequest, reply: FastifyReply) {
      const { return_to: rawReturnTo, ended } = query(request);
      const returnTo = safeReturnTo(rawReturnTo, ctx.config.issuer, ctx.config.allowedOrigins);
      if (ended === undefined && (await identify(request, ctx)).state === 'live') {
        return reply.header('cache-control', 'no-store').redirect(returnTo, 303);
      }
      const assets = await loadPageAssets();
      return setPageHeaders(reply).send(renderLoginPage(assets, returnTo, endedMessage(ended)));
    },
  });

  const account = defineRoute({
    method: 'GET',
    url: '/account',
    summary: "The caller's sessions (HTML): sign out one, or every other",
    tag: 'pages',
    // The page reads the credential itself (identify): no cookie or an expired access token
    // gets a page that refreshes and reloads, an ended session a redirect to /login, not a 401.
    auth: 'none',
    responses: {
      200: html('the sessions page (or a page that refreshes the access cookie and reloads)'),
      303: { description: 'the session has ended: to /login' },
    },
    errors: ['store_unavailable'],
    async handler(request: FastifyRequest, reply: FastifyReply) {
      const who = await identify(request, ctx);
      if (who.state === 'ended') {
        clearCredentialCookies(reply, ctx);
        const params = new URLSearchParams({ ended: who.code, return_to: '/account' });
        return reply.header('cache-control', 'no-store').redirect(`/login?${params.toString()}`, 303);
      }
      let view: AccountView | undefined;
      if (who.state === 'live') {
        const user = await ctx.users.findById(who.session.userId);
        const sessions = await ctx.sessions.listSessions(who.session.userId);
        view = {
          username: user?.username ?? who.session.userId,
          currentId: who.session.id,
          sessions,
          now: ctx.clock.now(),
        };
      }
      const assets = await loadPageAssets();
      return setPageHeaders(reply).send(renderAccountPage(assets, view));
    },
  });

  return [
    login,
    account,
    sessionEventsRoute(ctx),
    assetRoute('/pages/pages.js', (a) => a.script),
    assetRoute('/pages/pages.css', (a) => a.style),
    assetRoute('/pages/icon.svg', (a) => a.icon),
  ] as RouteSpec[];
}
