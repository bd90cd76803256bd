import type { AppContext } from '../http/context.ts';
import type { StreamRecord } from './stream-record.ts';

/** What a new stream or back-channel registration starts with: enabled now, the configured inactivity timeout. */
export function newStreamRecord(
  ctx: AppContext,
  fields: Omit<StreamRecord, 'status' | 'createdAt' | 'inactivityTimeoutMs'>,
): StreamRecord {
  return {
    ...fields,
    status: 'enabled',
    createdAt: ctx.clock.now(),
    inactivityTimeoutMs: ctx.config.ssf.inactivityTimeoutMs,
  };
}

/** Stores a stream's configuration; the transmitter re-reads its stream list on its next delivery. */
export async function saveStream(ctx: AppContext, stream: StreamRecord): Promise<void> {
  await ctx.ssf.store.saveStream(stream);
  ctx.ssf.transmitter.invalidate();
}

/** Removes a stream (config and queue); the transmitter stops delivering to it. */
export async function deleteStream(ctx: AppContext, streamId: string): Promise<void> {
  await ctx.ssf.store.deleteStream(streamId);
  ctx.ssf.transmitter.invalidate();
}
