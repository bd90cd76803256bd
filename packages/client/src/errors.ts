/** A problem+json answer from the auth service, or a network failure (`code: 'network_error'`). */
export class TesseraClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TesseraClientError';
  }
}

export async function errorFromResponse(response: Response): Promise<TesseraClientError> {
  let code = 'http_error';
  let detail = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { code?: unknown; detail?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    // not a problem+json body; keep the status
  }
  return new TesseraClientError(response.status, code, detail);
}
