import { listRoutes } from '../app.ts';
import type { AppContext } from './context.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { Problem } from './schemas.ts';

/**
 * The OpenAPI 3.1 document of the service, without starting it (route specs only depend on
 * the context inside handlers). This is what `/openapi.json` serves and `docs/openapi.json` holds.
 */
export function generateOpenApiDocument(): Record<string, unknown> {
  return buildOpenApiDocument(listRoutes({} as AppContext), Problem);
}
