/** A failure the CLI reports as one line and exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Reads the whole of stdin (the password); strips one trailing newline. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (then Enter and Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}
