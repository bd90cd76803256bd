export { type AuthServerOptions, BODY_LIMIT, buildAuthServer, listRoutes } from './app.ts';
export { ConfigError, loadConfig, type ServerConfig } from './config/env-config.ts';
export { generateOpenApiDocument } from './http/openapi-document.ts';
export { type RunningAuthServer, startAuthServer } from './start.ts';
export { DEFAULT_PASSWORD_PARAMS, type PasswordParams } from './users/password.ts';
export type { UserRecord, UserStore } from './users/types.ts';
export { createUsers, openUserStore, type Users } from './users/user-service.ts';
