import { open, rm, stat } from 'node:fs/promises';

const STALE_AFTER_MS = 30_000;

/**
 * Runs `work` while holding `<path>.lock`, created with O_EXCL so that two processes (two CLI
 * calls, or the CLI and the service) never write the users file at once. A lock older than
 * 30 s is taken to be left by a crashed process and removed. Gives up after `timeoutMs`.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await stat(lockPath).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_AFTER_MS) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`could not lock ${path}: another process holds ${lockPath}`);
      await new Promise((r) =>
        setTimeout(r, Math.min(10 * 2 ** Math.min(attempt, 5), 200) * Math.random() + 5),
      );
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}
