import { connect } from 'node:net';

/** One HTTP/1.1 answer read off a raw socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses the bytes a server sent on a `Connection: close` exchange. */
export function parseRawResponse(data: Buffer): RawResponse {
  const split = data.indexOf('\r\n\r\n');
  const head = (split < 0 ? data : data.subarray(0, split)).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(statusLine.split(' ')[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = split < 0 ? Buffer.alloc(0) : data.subarray(split + 4);
  if (headers['transfer-encoding']?.includes('chunked')) body = decodeChunked(body);
  return { status, headers, body: body.toString('utf8') };
}

/**
 * Sends exactly the bytes given (request line, headers in this order, duplicates kept, any
 * byte values) and reads the answer until the server closes. `Connection: close` is added.
 */
export function rawRequest(
  url: string,
  request: { method?: string; path: string; headers?: [string, string][]; body?: Buffer | string },
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const lines = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, `host: ${hostname}:${port}`];
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`);
  if (body !== undefined && !(request.headers ?? []).some(([n]) => /^content-length$/i.test(n))) {
    lines.push(`content-length: ${body.length}`);
  }
  lines.push('connection: close', '', '');
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms: ${request.method ?? 'GET'} ${request.path}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a server may reset after answering (oversized input)
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks)));
    });
    socket.write(body ? Buffer.concat([head, body]) : head);
  });
}
