/** `PORT` (default per service) and `HOST` (default 127.0.0.1) from the environment; exits on a bad value. */
export function readListenOptions(defaultPort: number): { port: number; host: string } {
  const raw = process.env.PORT?.trim();
  const port = raw ? Number(raw) : defaultPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('PORT: expected a port number (0-65535)');
    process.exit(1);
  }
  return { port, host: process.env.HOST?.trim() || '127.0.0.1' };
}
