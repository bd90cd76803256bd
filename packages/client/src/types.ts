/** A session as the auth service returns it (contract §3, ISO-8601 times). */
export interface ClientSession {
  id: string;
  userId: string;
  roles: string[];
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string;
  userAgent: string;
  current?: boolean;
}

/** `TokenResponse` of login and refresh; token strings are absent in cookie transfer. */
export interface TokenResponseBody {
  accessToken?: string;
  refreshToken?: string;
  tokenType: 'Bearer';
  expiresIn: number;
  session: ClientSession;
}
