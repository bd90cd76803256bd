import { parse } from 'cookie';

/** Value of one cookie from a `Cookie` header, parsed by the `cookie` package; `undefined` if absent. */
export function readCookie(header: string, name: string): string | undefined {
  if (!header.includes(name)) return undefined;
  const value = parse(header)[name];
  return typeof value === 'string' ? value : undefined;
}
