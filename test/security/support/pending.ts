/**
 * Attack cases that depend on fixes of issue 9 (helper D: the token lifetime bound). They run
 * in pending-issue9.test.ts only, and only with PENDING_ISSUE9=1 until the lead enables them
 * after merging that fix.
 */
export const PENDING_ISSUE_9 = new Set<string>(['claims: lifetime longer than the access TTL (30 days)']);
