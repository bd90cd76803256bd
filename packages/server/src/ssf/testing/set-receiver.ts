import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test receiver got. */
export interface ReceivedRequest {
  contentType: string;
  authorization: string | undefined;
  body: string;
}

/**
 * A real HTTP receiver for pushed SETs (or logout tokens) on 127.0.0.1: answers `status`
 * (202 by default), records every request, and can go down (`stop`) and come back on the
 * same port (`start`).
 */
export interface TestReceiver {
  url: string;
  port: number;
  received: ReceivedRequest[];
  status: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export async function startTestReceiver(path = '/events', port = 0): Promise<TestReceiver> {
  let server: Server | null = null;
  const receiver: TestReceiver = {
    url: '',
    port,
    received: [],
    status: 202,
    async start() {
      const s = createServer((req, res) => {
        readBody(req).then(
          (body) => {
            receiver.received.push({
              contentType: String(req.headers['content-type'] ?? ''),
              authorization: req.headers.authorization,
              body,
            });
            res.writeHead(receiver.status, { connection: 'close' }).end();
          },
          () => res.writeHead(400).end(),
        );
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(receiver.port, '127.0.0.1', () => resolve());
      });
      server = s;
      receiver.port = (s.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${receiver.port}${path}`;
    },
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await receiver.start();
  return receiver;
}

/** Polls `check` every 50 ms until it returns true; throws after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
