import { Counter, Gauge, type Registry } from 'prom-client';

/** Delivery metrics, labelled by stream id (few streams: bounded cardinality). */
export interface SsfMetrics {
  queued: Counter<'stream'>;
  delivered: Counter<'stream'>;
  retried: Counter<'stream'>;
  failed: Counter<'stream'>;
  received: Counter<'outcome'>;
}

/** Registers the SSF metrics on the service's registry; `queueLengths` is read at scrape time. */
export function createSsfMetrics(
  registry: Registry,
  queueLengths: () => Promise<Array<{ stream: string; length: number }>>,
): SsfMetrics {
  new Gauge({
    name: 'tessera_ssf_queue_length',
    help: 'Events waiting in each stream’s delivery queue',
    labelNames: ['stream'],
    registers: [registry],
    async collect(this: Gauge<'stream'>) {
      this.reset();
      for (const { stream, length } of await queueLengths().catch(() => [])) this.set({ stream }, length);
    },
  });
  return {
    queued: new Counter({
      name: 'tessera_ssf_events_queued_total',
      help: 'Events (SETs and logout tokens) put in a stream’s delivery queue',
      labelNames: ['stream'],
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'tessera_ssf_events_delivered_total',
      help: 'Events the receiver accepted (push: 2xx; poll: acknowledged)',
      labelNames: ['stream'],
      registers: [registry],
    }),
    retried: new Counter({
      name: 'tessera_ssf_delivery_retries_total',
      help: 'Push attempts that failed (receiver down, timeout, 5xx) and will be retried with backoff',
      labelNames: ['stream'],
      registers: [registry],
    }),
    failed: new Counter({
      name: 'tessera_ssf_events_failed_total',
      help: 'Events given up: the receiver refused them for good (4xx, or a poll setErrs entry)',
      labelNames: ['stream'],
      registers: [registry],
    }),
    received: new Counter({
      name: 'tessera_ssf_received_total',
      help: 'SETs pushed to /v1/ssf/receiver by outcome (accepted, or the RFC 8935 error code)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
