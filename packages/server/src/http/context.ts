import type { Clock, KeyRing, SessionService, SessionStore } from '@tessera/core';
import type { ServerConfig } from '../config/env-config.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import type { Users } from '../users/user-service.ts';

/** What every route handler can reach. Created once per app; nothing mutable per request. */
export interface AppContext {
  config: ServerConfig;
  sessions: SessionService;
  store: SessionStore;
  keys: KeyRing;
  users: Users;
  metrics: ServerMetrics;
  clock: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the credential is known; logged with the request line. */
    tesseraUser?: { userId: string; sessionId: string };
  }
}
