import { loadConfig } from '../config/env-config.ts';
import { openSsfStore } from '../ssf/open-ssf.ts';
import { summarizeStream } from '../ssf/ssf-admin-routes.ts';
import { CliError, printLine } from './io.ts';
import { callAdmin } from './sessions-command.ts';

interface StreamLine {
  stream_id: string;
  method: string;
  status: string;
  aud: string;
  endpoint_url?: string;
  events: string[];
  queued: number;
  created_at: string;
}

/** Short name of an event type URI (`…/event-type/session-revoked` → `session-revoked`). */
const shortName = (uri: string) => uri.slice(uri.lastIndexOf('/') + 1) || uri;

function print(streams: StreamLine[]): void {
  if (streams.length === 0) process.stderr.write('no event streams\n');
  for (const s of streams) {
    printLine(
      [
        s.stream_id,
        s.method,
        s.status,
        `queued=${s.queued}`,
        s.events.map(shortName).join(',') || '-',
        s.endpoint_url ?? '-',
        `aud=${s.aud}`,
        s.created_at,
      ].join('\t'),
    );
  }
}

/**
 * `tessera streams list`: one line per SSF stream and back-channel logout registration:
 * id, method (push, poll, bcl), status, queued events, events, endpoint, aud, created.
 * Reads Redis directly when configured, else asks the running service (control socket or HTTP).
 */
export async function runStreamsList(): Promise<void> {
  const config = loadConfig();
  if (!config.redis) {
    const answer = await callAdmin(config, 'GET', '/v1/admin/streams');
    return print((answer.json() as { streams: StreamLine[] }).streams);
  }
  const store = await openSsfStore(config);
  try {
    const streams = await store.listStreams();
    print((await Promise.all(streams.map((s) => summarizeStream(store, s)))) as unknown as StreamLine[]);
  } catch (error) {
    if ((error as { code?: string }).code === 'store_unavailable')
      throw new CliError('Redis cannot be reached');
    throw error;
  } finally {
    await store.close();
  }
}
