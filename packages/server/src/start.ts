import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type AuthServerOptions, buildAuthServer } from './app.ts';
import type { ServerConfig } from './config/env-config.ts';
import { CONTROL_SOCKET, startControlSocket } from './control-socket.ts';

export interface RunningAuthServer {
  app: FastifyInstance;
  /** e.g. `http://127.0.0.1:4000` */
  url: string;
  /** Stops accepting, finishes in-flight requests, closes the store, users and keys. */
  close(): Promise<void>;
}

/**
 * Builds the auth service and listens on `config.host:config.port`.
 *
 * @example
 * const server = await startAuthServer(loadConfig());
 * process.once('SIGTERM', () => server.close());
 */
export async function startAuthServer(
  config: ServerConfig,
  options: AuthServerOptions = {},
): Promise<RunningAuthServer> {
  const app = await buildAuthServer(config, options);
  try {
    const url = await app.listen({ host: config.host, port: config.port });
    // Sessions in this process's memory: let the local CLI reach them through a Unix socket.
    const control = config.redis
      ? null
      : await startControlSocket(
          app,
          join(config.dataDir, CONTROL_SOCKET),
          app.tessera.localAdminToken,
        ).catch(() => null);
    return {
      app,
      url,
      close: async () => {
        await control?.close();
        await app.close();
      },
    };
  } catch (error) {
    await app.close();
    throw error;
  }
}
