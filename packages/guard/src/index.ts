export {
  ACCESS_COOKIE,
  createGuard,
  credentialFrom,
  type Guard,
  type HeaderSource,
  MAX_CREDENTIAL_HEADER_LENGTH,
  SESSION_COOKIE,
} from './guard.ts';
export { type ProblemResponse, toProblemResponse } from './lib/problem-response.ts';
export type { DecisionOutcome, GuardStats } from './metrics.ts';
export type { GuardLogger, GuardOptions, SessionLookup } from './options.ts';
export { checkRole } from './roles.ts';
export type { AuthError, AuthResult, FeedStatus, GuardError, Principal } from './types.ts';
