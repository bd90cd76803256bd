import type { Cluster, Redis } from 'ioredis';
import { ReplicaWaitTimeoutError } from '../../errors/replica-wait-timeout.ts';
import type { RedisClient } from './connection.ts';
import { type ScriptName, scriptCommandName } from './lua-scripts.ts';

/**
 * How long a revoking write waits for replicas (`WAIT numreplicas timeout`) before it is
 * answered. `replicas: 0` turns waiting off (one Redis without replicas).
 */
export interface ReplicaWaitOptions {
  /** Replicas that must acknowledge each revoking write (on a cluster: each master's). */
  replicas: number;
  /** Milliseconds to wait for them. */
  timeoutMs: number;
}

type Pipeline = ReturnType<RedisClient['pipeline']>;
type ScriptCommand = (this: Pipeline, numKeys: number, ...args: string[]) => Pipeline;

/**
 * Cluster: runs a script and, in the same pipeline, `WAIT` — one write to the node that owns
 * the script's slot (a keyless `WAIT` alone would go to any node, and would count that node's
 * replicas). The slot map is not used to lower `replicas`: it can be stale (a replica not yet
 * listed), and skipping the wait then would break the promise. Returns the reply; throws
 * `ReplicaWaitTimeoutError` (naming `victims`) when too few acknowledged in time.
 */
export async function runOnSlotAndWait(
  client: Cluster,
  wait: ReplicaWaitOptions,
  name: ScriptName,
  keys: string[],
  args: Array<string | number>,
  victims: readonly string[],
): Promise<unknown> {
  const required = wait.replicas;
  const pipeline = client.pipeline();
  const command = (pipeline as unknown as Record<string, ScriptCommand>)[
    scriptCommandName(name)
  ] as ScriptCommand;
  command.call(pipeline, keys.length, ...keys, ...args.map(String));
  if (required > 0) pipeline.call('WAIT', required, wait.timeoutMs);
  const replies = (await pipeline.exec()) ?? [];
  const [scriptError, reply] = replies[0] ?? [new Error('no reply'), null];
  if (scriptError) throw scriptError;
  if (required > 0) {
    const [waitError, acknowledged] = replies[1] ?? [new Error('no reply'), 0];
    // The script ran: whatever stopped the WAIT (timeout, lost connection), it is unconfirmed.
    if (waitError || Number(acknowledged) < required) {
      throw new ReplicaWaitTimeoutError(victims, waitError ? 0 : Number(acknowledged), required);
    }
  }
  return reply;
}

/**
 * One Redis (single or sentinel master): `WAIT` on the connection that just ran a revoking
 * script. `socket` is the connection the script was sent on: if the client reconnected since
 * (a failover), this `WAIT` would count another server's replicas, so it counts as not
 * confirmed. `WAIT` covers every earlier write of the connection, so a retry whose script
 * found nothing left to do still confirms the first attempt's write.
 */
export async function waitOnConnection(
  client: Redis,
  socket: Redis['stream'] | undefined,
  wait: ReplicaWaitOptions,
  victims: readonly string[],
): Promise<void> {
  if (wait.replicas <= 0) return;
  if (client.stream !== socket) throw new ReplicaWaitTimeoutError(victims, 0, wait.replicas);
  // The script ran: whatever stops the WAIT (command timeout, lost connection), it is unconfirmed.
  const acknowledged = Number(await client.call('WAIT', wait.replicas, wait.timeoutMs).catch(() => 0));
  if (client.stream !== socket || acknowledged < wait.replicas) {
    throw new ReplicaWaitTimeoutError(victims, acknowledged, wait.replicas);
  }
}
