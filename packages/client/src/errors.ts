/** The stable problem codes of the auth service (docs/errors.md), plus the client's own two. */
export type TesseraErrorCode =
  | 'invalid_request'
  | 'invalid_credentials'
  | 'session_exists'
  | 'rate_limited'
  | 'invalid_token'
  | 'token_expired'
  | 'session_expired'
  | 'session_revoked'
  | 'refresh_token_reused'
  | 'access_token_active'
  | 'csrf'
  | 'not_found'
  | 'store_unavailable'
  /** The auth service could not be reached. */
  | 'network_error'
  /** An answer that was not problem+json. */
  | 'http_error';

/** A problem+json answer from the auth service, or a network failure (`code: 'network_error'`). */
export class TesseraClientError extends Error {
  constructor(
    readonly status: number,
    /** One of `TesseraErrorCode`, or a code this client version does not know yet. */
    readonly code: TesseraErrorCode | (string & {}),
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'TesseraClientError';
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** From `Retry-After` (seconds), on `rate_limited` and `store_unavailable`. */
  readonly retryAfterSeconds?: number;
}

function retryAfter(response: Response): number | undefined {
  const raw = response.headers.get('retry-after');
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
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
  const wait = retryAfter(response);
  return new TesseraClientError(
    response.status,
    code,
    detail,
    wait === undefined ? {} : { retryAfterSeconds: wait },
  );
}
