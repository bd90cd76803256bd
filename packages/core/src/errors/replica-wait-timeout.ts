import { StoreUnavailableError } from './errors.ts';

/**
 * A revoking write reached its master but not enough replicas within the timeout: a
 * failover now could lose it. HTTP answers 503 `store_unavailable` (retry: the revocation is
 * idempotent and waits again); the caller keeps the revocation in force locally meanwhile.
 */
export class ReplicaWaitTimeoutError extends StoreUnavailableError {
  /** Sessions the unconfirmed write revoked (to keep refusing them locally). */
  readonly sessionIds: readonly string[];
  readonly acknowledged: number;
  readonly required: number;

  constructor(sessionIds: readonly string[], acknowledged: number, required: number) {
    super('the revocation was not confirmed by a replica in time');
    this.sessionIds = Object.freeze([...sessionIds]);
    this.acknowledged = acknowledged;
    this.required = required;
  }
}
