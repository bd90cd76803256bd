import type { Clock, KeyRing, SessionService, SessionStore } from '@tessera/core';
import type { Guard } from '@tessera/guard';
import type { ServerConfig } from '../config/env-config.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import type { SessionEventsSource } from '../pages/session-events-source.ts';
import type { Ssf } from '../ssf/open-ssf.ts';
import type { Users } from '../users/user-service.ts';
import type { RecentRevocations } from './recent-revocations.ts';

/** What every route handler can reach. Created once per app; nothing mutable per request. */
export interface AppContext {
  config: ServerConfig;
  sessions: SessionService;
  store: SessionStore;
  keys: KeyRing;
  users: Users;
  metrics: ServerMetrics;
  clock: Clock;
  /** Revocation-feed guard for `/v1/authorize` (jwt mode with Redis). */
  guard: Guard | undefined;
  /** Sessions revoked by this instance lately (closes the feed's delivery gap for `/v1/authorize`). */
  revoked: RecentRevocations;
  /** Tells `GET /v1/session/events` streams that their session ended. */
  sessionEvents: SessionEventsSource;
  /** Origins the CSRF rule accepts: the issuer's and TESSERA_ALLOWED_ORIGINS (parsed once). */
  csrfOrigins: readonly string[];
  /** Random per-process admin credential, only handed to the local control socket. */
  localAdminToken: string;
  /** Security events: SSF transmitter and receiver, back-channel logout (docs/events.md). */
  ssf: Ssf;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set once the credential is known; logged with the request line. Declared on every request
     * (`decorateRequest`, `null` until set) so setting it does not change the request's shape.
     */
    tesseraUser?: { userId: string; sessionId: string } | null;
  }
}
