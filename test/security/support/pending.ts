/**
 * Attack cases that found defects fixed under issue 9 (the token lifetime bound). They are part
 * of the whole corpus (jwt-attacks.test.ts) and also checked alone in issue9-cases.test.ts.
 */
export const ISSUE_9_CASES = new Set<string>(['claims: lifetime longer than the access TTL (30 days)']);
