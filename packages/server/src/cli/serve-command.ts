import { loadConfig } from '../config/env-config.ts';
import { startAuthServer } from '../start.ts';
import { printLine } from './io.ts';

/** `tessera serve`: runs the auth service until SIGTERM/SIGINT, then shuts down gracefully. */
export async function runServe(): Promise<void> {
  const config = loadConfig();
  const server = await startAuthServer(config);
  const store = config.redis
    ? `redis (${config.redis.kind})`
    : 'in-memory (sessions end when this process stops)';
  printLine(`Tessera auth service listening on ${server.url}`);
  printLine(`  issuer:  ${config.issuer}`);
  printLine(`  JWKS:    ${config.issuer}/.well-known/jwks.json`);
  printLine(`  mode:    ${config.tokenMode}, store: ${store}`);
  printLine(`  users:   ${config.users.startsWith('postgres') ? 'postgres' : config.users}`);
  printLine('Add a user:  npx tessera user add alice --roles admin --password-stdin');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    // Requests get 10 s to finish; then the process ends anyway.
    setTimeout(() => process.exit(1), 10_000).unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
