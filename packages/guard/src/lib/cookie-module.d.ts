// The `cookie` package resolved here (0.7, a dependency of Express) ships no types.
// Remove this file once `cookie@^1` (which has its own types) is a dependency of @tessera/guard.
declare module 'cookie' {
  export function parse(
    header: string,
    options?: { decode?: (value: string) => string },
  ): Record<string, string | undefined>;
}
