import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/env-config.ts';
import { CliError } from './io.ts';
import { runKeysList, runKeysRevoke, runKeysRotate } from './keys-command.ts';
import { runRedisAcl } from './redis-acl-command.ts';
import { runServe } from './serve-command.ts';
import { runSessionsList, runSessionsRevoke } from './sessions-command.ts';
import { runStreamsList } from './streams-command.ts';
import { runUserAdd } from './user-command.ts';

/** Exit codes: 0 success, 1 runtime error, 2 usage error. */
function buildProgram(): Command {
  const program = new Command('tessera')
    .description('Tessera: session management for microservices')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  program
    .command('serve')
    .description('run the auth service (configured by the environment, see docs/operations.md)')
    .action(runServe);
  const user = program.command('user').description('manage users').exitOverride();
  user
    .command('add <username>')
    .description('create a user; the password is read from stdin; prints the user id')
    .option('--roles <roles>', 'comma-separated roles', '')
    .addOption(
      new Option('--password-stdin', 'read the password from stdin (required)').makeOptionMandatory(),
    )
    .exitOverride()
    .action((username: string, options: { roles: string }) =>
      runUserAdd(
        username,
        options.roles
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      ),
    );
  const sessions = program.command('sessions').description('list and revoke sessions').exitOverride();
  sessions
    .command('list')
    .description('one line per active session: id, created, last seen, expires, ip, user agent')
    .requiredOption('--user <username>', 'whose sessions')
    .exitOverride()
    .action((options: { user: string }) => runSessionsList(options.user));
  sessions
    .command('revoke [sessionId]')
    .description('revoke one session, or every session of a user with --user')
    .option('--user <username>', 'revoke every session of this user')
    .exitOverride()
    .action((sessionId: string | undefined, options: { user?: string }) => {
      if ((sessionId === undefined) === (options.user === undefined)) {
        throw new CommanderError(
          2,
          'tessera.usage',
          'error: give a session id or --user <username>, not both',
        );
      }
      return runSessionsRevoke(sessionId, options.user);
    });
  const streams = program
    .command('streams')
    .description('security event streams (docs/events.md)')
    .exitOverride();
  streams
    .command('list')
    .description(
      'one line per SSF stream and back-channel logout registration: id, method, status, queued, events, endpoint, aud, created',
    )
    .exitOverride()
    .action(runStreamsList);
  const keys = program.command('keys').description('manage signing keys').exitOverride();
  keys
    .command('rotate')
    .description('make a new signing key current; old public keys stay in the JWKS until their tokens expire')
    .exitOverride()
    .action(runKeysRotate);
  keys
    .command('list')
    .description('one line per key: kid, alg, state (current, retiring, revoked), created')
    .exitOverride()
    .action(runKeysList);
  keys
    .command('revoke')
    .argument('<kid>', 'key id of the compromised key')
    .description(
      'emergency removal of a compromised key: it leaves the JWKS, a new key signs if it was current, and every guard refuses its tokens within 2 s',
    )
    .exitOverride()
    .action(runKeysRevoke);
  const redis = program.command('redis').description('Redis set-up').exitOverride();
  redis
    .command('acl')
    .description(
      'print ACL SETUSER commands for the Redis users tessera-auth and tessera-guard (passwords from TESSERA_REDIS_AUTH_PASSWORD / TESSERA_REDIS_GUARD_PASSWORD); apply them on every Redis node',
    )
    .exitOverride()
    .action(runRedisAcl);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'tessera.usage') process.stderr.write(`${error.message}\n`);
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof ConfigError || error instanceof CliError) {
      process.stderr.write(`tessera: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`tessera: ${error instanceof Error ? error.message : 'unexpected error'}\n`);
    return 1;
  }
}

const code = await main(process.argv);
// `serve` keeps running (its signal handlers exit); every other command ends here.
if (code !== 0 || process.argv[2] !== 'serve') process.exit(code);
