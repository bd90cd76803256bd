import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';
import { CONTROL_SOCKET, startControlSocket } from './control-socket.ts';

function getOverSocket(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('control socket (issue 9 §8)', () => {
  it('tightens an existing data dir to 0700 and creates the socket 0600 under a restrictive umask', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tessera-sock-'));
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const t = await createTestApp();
    const umaskBefore = process.umask();
    const control = await startControlSocket(
      t.app,
      join(dataDir, CONTROL_SOCKET),
      'local-admin-credential-0123456789',
    );
    try {
      expect(control).not.toBeNull();
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dataDir, CONTROL_SOCKET)).mode & 0o777).toBe(0o600);
      expect(process.umask()).toBe(umaskBefore);
      expect(await getOverSocket(join(dataDir, CONTROL_SOCKET), '/healthz')).toBe(200);
    } finally {
      await control?.close();
      await t.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
