import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.ts';
import { ERROR_CODES, isTesseraError, RateLimitedError, TesseraError, toProblem } from './errors.ts';

interface DocRow {
  code: string;
  status: number;
  className: string;
  when: string;
}

/** The rows of the table in docs/errors.md whose header is `| code | status | class | when … |`. */
function readDocTable(): DocRow[] {
  const markdown = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const lines = markdown.split('\n');
  const headerAt = lines.findIndex((line) => /^\|\s*code\s*\|\s*status\s*\|\s*class\s*\|/i.test(line));
  if (headerAt < 0) throw new Error('docs/errors.md has no "| code | status | class | ..." table');
  const rows: DocRow[] = [];
  for (const line of lines.slice(headerAt + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, line.lastIndexOf('|'))
      .split('|')
      .map((cell) => cell.trim());
    const [code = '', status = '', className = '', when = ''] = cells;
    rows.push({
      code: code.replace(/`/g, ''),
      status: Number(status),
      className: className.replace(/`/g, ''),
      when,
    });
  }
  return rows;
}

type ErrorClass = new (message: string) => TesseraError;

/** Every concrete error class exported by errors.ts. */
function errorClasses(): [string, TesseraError][] {
  const found: [string, TesseraError][] = [];
  for (const [name, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || value === TesseraError) continue;
    if (!(value.prototype instanceof TesseraError)) continue;
    const instance =
      value === RateLimitedError ? new RateLimitedError('message', 3) : new (value as ErrorClass)('message');
    found.push([name, instance]);
  }
  return found;
}

const rows = readDocTable();
const classes = errorClasses();

describe('docs/errors.md and ERROR_CODES', () => {
  it('list the same codes, in the same order, each once', () => {
    expect(rows.map((row) => row.code)).toEqual([...ERROR_CODES]);
    expect(new Set(rows.map((row) => row.code)).size).toBe(rows.length);
  });

  it('document a status, a class and a reason for every code', () => {
    for (const row of rows) {
      expect(Number.isInteger(row.status) && row.status >= 400 && row.status < 600, row.code).toBe(true);
      expect(row.className, row.code).toMatch(/^[A-Z][A-Za-z]+Error$/);
      expect(row.when.length, row.code).toBeGreaterThan(10);
    }
  });
});

describe('error classes', () => {
  it('exist for every code, one code each, with the documented class name and status', () => {
    const byCode = new Map<string, [string, TesseraError]>();
    for (const [name, error] of classes) {
      expect(byCode.has(error.code), `${error.code} is used by two classes`).toBe(false);
      byCode.set(error.code, [name, error]);
    }
    expect([...byCode.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const row of rows) {
      const [name, error] = byCode.get(row.code) ?? [];
      expect(name, row.code).toBe(row.className);
      expect(error?.status, row.code).toBe(row.status);
      expect(error?.name, row.code).toBe(row.className);
    }
  });

  it('are TesseraErrors and Errors, keep their cause and have a title', () => {
    const cause = new Error('underlying');
    for (const [name, error] of classes) {
      expect(error, name).toBeInstanceOf(Error);
      expect(isTesseraError(error), name).toBe(true);
      expect(error.title.length, name).toBeGreaterThan(0);
    }
    expect(new errors.StoreUnavailableError('store down', { cause }).cause).toBe(cause);
    expect(new RateLimitedError('slow down', 7, { cause }).retryAfterSeconds).toBe(7);
    expect(new errors.StoreUnavailableError('x').retryAfterSeconds).toBeGreaterThan(0);
    expect(isTesseraError(new Error('plain'))).toBe(false);
    expect(isTesseraError('invalid_token')).toBe(false);
  });
});

describe('toProblem', () => {
  it('builds the RFC 9457 body with exactly type, title, status, detail and code', () => {
    for (const [name, error] of classes) {
      const problem = toProblem(error);
      expect(Object.keys(problem).sort(), name).toEqual(['code', 'detail', 'status', 'title', 'type']);
      expect(problem, name).toEqual({
        type: `https://tessera.dev/problems/${error.code}`,
        title: error.title,
        status: error.status,
        detail: 'message',
        code: error.code,
      });
    }
  });

  it('never carries the cause or a stack', () => {
    const cause = new Error('ERR redis said something with a token tsr_secret');
    const problem = toProblem(
      new errors.StoreUnavailableError('The session store cannot be reached', { cause }),
    );
    const body = JSON.stringify(problem);
    expect(body).not.toContain('redis said');
    expect(body).not.toContain('tsr_secret');
    expect(body).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
