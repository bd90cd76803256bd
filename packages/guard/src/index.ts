export {
  ACCESS_COOKIE,
  credentialFrom,
  type HeaderSource,
  MAX_CREDENTIAL_HEADER_LENGTH,
  SESSION_COOKIE,
} from './credential.ts';
export { createGuard, type Guard } from './guard.ts';
export { type ProblemResponse, toProblemResponse } from './lib/problem-response.ts';
export type { DecisionOutcome, GuardStats } from './metrics.ts';
export type { GuardLogger, GuardOptions, SessionLookup } from './options.ts';
export type { AuthError, AuthResult, GuardError, Principal } from './principal.ts';
export { checkRole } from './roles.ts';
