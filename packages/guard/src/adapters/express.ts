import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Guard } from '../guard.ts';
import { toProblemResponse } from '../lib/problem-response.ts';
import { checkRole, checkRoleList } from '../roles.ts';
import type { GuardError, Principal, RequestResult } from '../types.ts';

declare global {
  namespace Express {
    interface Request {
      /** Set by `authenticate(guard)` for a request with a valid, unrevoked session. */
      tessera?: Principal;
    }
  }
}

function sendProblem(res: Response, error: GuardError): void {
  const problem = toProblemResponse(error);
  res.status(problem.status).set(problem.headers).send(problem.body);
}

/**
 * Express middleware: authenticates the request (bearer header or cookie) and sets
 * `req.tessera`, or answers 401 / 503 problem+json.
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(authenticate(guard));
 * app.get('/admin', requireRole('admin'), (req, res) => { res.json({ userId: req.tessera?.userId }); });
 * ```
 */
export function authenticate(guard: Guard): RequestHandler {
  const finish = (result: RequestResult, req: Request, res: Response, next: NextFunction): void => {
    if (!result.ok) {
      sendProblem(res, result.error);
      return;
    }
    req.tessera = result.principal;
    next();
  };
  return (req: Request, res: Response, next: NextFunction): Promise<void> | undefined => {
    // A cached token or lookup is decided in this tick: no promise for Express to chain on.
    const result = guard.authenticateRequest(req.headers, req.method, req.rawHeaders);
    if (!(result instanceof Promise)) {
      finish(result, req, res, next);
      return undefined;
    }
    return result.then((settled) => finish(settled, req, res, next));
  };
}

/**
 * Express middleware after `authenticate`: 403 `insufficient_role` unless the session holds
 * one of `roles`. Throws `TypeError` at setup for an empty role list.
 */
export function requireRole(...roles: string[]): RequestHandler {
  const required = checkRoleList(roles);
  return (req: Request, res: Response, next: NextFunction): void => {
    const error = checkRole(req.tessera, required);
    if (error !== null) {
      sendProblem(res, error);
      return;
    }
    next();
  };
}
