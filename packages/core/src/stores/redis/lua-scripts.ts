import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.ts';

/** Script names: one file `scripts/<name>.lua` each, `scripts/common.lua` prepended. */
const SCRIPT_NAMES = [
  'create',
  'rotate',
  'touch',
  'set-access',
  'revoke-session',
  'revoke-user',
  'list',
  'delete',
  'announce',
  'rate-limit',
  'rate-limits',
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

function readScript(name: string): string {
  return readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
}

const COMMON = readScript('common');
const SOURCES = new Map<ScriptName, string>(SCRIPT_NAMES.map((n) => [n, `${COMMON}\n${readScript(n)}`]));

/** The full Lua source of a script (common helpers included), e.g. for another language to load. */
export function scriptSource(name: ScriptName): string {
  return SOURCES.get(name) as string;
}

/** The ioredis command a script is defined as (also on pipelines). */
export const scriptCommandName = (name: ScriptName): string => `tessera_${name.replace('-', '_')}`;
const commandName = scriptCommandName;

type ScriptCommand = (numKeys: number, ...args: string[]) => Promise<unknown>;

export type RunScript = (name: ScriptName, keys: string[], args: Array<string | number>) => Promise<unknown>;

/**
 * Defines every script on the client (ioredis sends EVAL the first time per connection,
 * then EVALSHA, and falls back to EVAL on NOSCRIPT) and returns a runner.
 */
export function defineScripts(client: RedisClient): RunScript {
  const commands = client as unknown as Record<string, ScriptCommand | undefined>;
  for (const name of SCRIPT_NAMES) {
    if (!commands[commandName(name)]) client.defineCommand(commandName(name), { lua: scriptSource(name) });
  }
  return (name, keys, args) => {
    const command = commands[commandName(name)] as ScriptCommand;
    return command.call(client, keys.length, ...keys, ...args.map(String));
  };
}
