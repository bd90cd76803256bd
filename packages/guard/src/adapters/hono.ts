import type { Context, MiddlewareHandler } from 'hono';
import type { Guard } from '../guard.ts';
import { toProblemResponse } from '../lib/problem-response.ts';
import { checkRole, checkRoleList } from '../roles.ts';
import type { GuardError, Principal } from '../types.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by `authenticate(guard)`: `c.get('tessera')`. */
    tessera: Principal;
  }
}

function problem(error: GuardError): Response {
  const { status, headers, body } = toProblemResponse(error);
  return new Response(body, { status, headers });
}

/**
 * Hono middleware: authenticates and sets `c.get('tessera')`, or answers 401 / 503.
 *
 * @example
 * ```ts
 * const app = new Hono();
 * app.use(authenticate(guard));
 * app.get('/whoami', (c) => c.json(c.get('tessera')));
 * ```
 */
export function authenticate(guard: Guard): MiddlewareHandler {
  return async (c: Context, next) => {
    const result = await guard.authenticateRequest(c.req.raw.headers);
    if (!result.ok) return problem(result.error);
    c.set('tessera', result.principal);
    await next();
    return undefined;
  };
}

/** Hono middleware after `authenticate`: 403 `insufficient_role` unless the session holds one of `roles`. */
export function requireRole(...roles: string[]): MiddlewareHandler {
  const required = checkRoleList(roles);
  return async (c: Context, next) => {
    const error = checkRole(c.get('tessera') as Principal | undefined, required);
    if (error !== null) return problem(error);
    await next();
    return undefined;
  };
}
