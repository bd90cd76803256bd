/** A user as a users store keeps it. */
export interface UserRecord {
  /** `[A-Za-z0-9_-]{1,64}`, never a `.` (session ids embed it). */
  id: string;
  /** Normalised: NFKC, lower case. */
  username: string;
  /** argon2id PHC string. */
  passwordHash: string;
  roles: string[];
  /** ISO-8601. */
  createdAt: string;
}

/** Where users live: `file:`, `memory` or PostgreSQL. Usernames passed in are already normalised. */
export interface UserStore {
  findByUsername(username: string): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  /** Throws `UserExistsError` when the username is taken. */
  create(user: UserRecord): Promise<UserRecord>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  close(): Promise<void>;
}
