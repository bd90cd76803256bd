import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Guard } from '../guard.ts';
import { toProblemResponse } from '../lib/problem-response.ts';
import { checkRole, checkRoleList } from '../roles.ts';
import type { GuardError, Principal, RequestResult } from '../types.ts';

/** Writes a refusal (problem+json, `WWW-Authenticate` / `Retry-After`) and ends the response. */
export function sendProblem(res: ServerResponse, error: GuardError): void {
  const { status, headers, body } = toProblemResponse(error);
  res.writeHead(status, headers).end(body);
}

/**
 * For plain `node:http`: returns the request's principal, or answers 401 / 503 itself and
 * returns `undefined` (the handler then just returns). The answer comes without a promise
 * when it needs no I/O (a token or lookup already cached, decided against the revocation
 * set); otherwise it is a promise. `await` works for both; a handler that wants no promise
 * hop on the hot path checks `instanceof Promise`.
 *
 * @example
 * ```ts
 * const authenticate = createAuthenticator(guard);
 * http.createServer(async (req, res) => {
 *   const principal = await authenticate(req, res);
 *   if (!principal) return;
 *   res.end(JSON.stringify({ userId: principal.userId }));
 * });
 * ```
 */
export function createAuthenticator(
  guard: Guard,
): (req: IncomingMessage, res: ServerResponse) => Principal | undefined | Promise<Principal | undefined> {
  const answer = (result: RequestResult, res: ServerResponse): Principal | undefined => {
    if (result.ok) return result.principal;
    sendProblem(res, result.error);
    return undefined;
  };
  return (req, res) => {
    const result = guard.authenticateRequest(req.headers, req.method ?? 'GET', req.rawHeaders);
    if (!(result instanceof Promise)) return answer(result, res);
    return result.then((settled) => answer(settled, res));
  };
}

/** `true` when the principal holds one of `roles`; otherwise answers 403 `insufficient_role` and returns `false`. */
export function requireRole(...roles: string[]): (principal: Principal, res: ServerResponse) => boolean {
  const required = checkRoleList(roles);
  return (principal, res) => {
    const error = checkRole(principal, required);
    if (error === null) return true;
    sendProblem(res, error);
    return false;
  };
}
