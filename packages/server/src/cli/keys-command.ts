import { loadConfig } from '../config/env-config.ts';
import { openKeyRing } from '../resources.ts';
import { CliError, printLine } from './io.ts';

/**
 * `tessera keys rotate`: a new signing key becomes current in the key file (data dir or
 * TESSERA_KEYS_FILE); running services pick it up within a second. Old public keys stay in
 * the JWKS until every token they signed has expired.
 */
export async function runKeysRotate(): Promise<void> {
  const config = loadConfig();
  if (config.keysJson !== undefined) {
    throw new CliError('TESSERA_KEYS is read-only: add a new key to that key set and redeploy');
  }
  const ring = await openKeyRing(config);
  try {
    const { kid } = await ring.rotate();
    printLine(`new signing key ${kid}; previous public keys stay in the JWKS until their tokens expire`);
  } finally {
    ring.close();
  }
}
