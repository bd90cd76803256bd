import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every TSDoc `@example` of the published packages compiles: each is extracted into a
 * virtual module next to its source file, given imports for the names it uses (from its
 * own file, its package's entry and core's internal entry) and a few declared inputs
 * (`guard`, `keys`, `ring`, `token`, `request`), then type-checked with the repo's settings.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = ['core', 'guard', 'server', 'client'];
const ENTRIES: Record<string, string> = {
  core: '@tessera/core/internal',
  guard: '@tessera/guard',
  server: '@tessera/server',
  client: '@tessera/client',
};

/** Inputs an example may use without making them (declared, not defined). */
const INPUTS: Record<string, string> = {
  guard: "declare const guard: import('@tessera/guard').Guard;",
  keys: "declare const keys: import('@tessera/core').SessionKeys;",
  ring: "declare const ring: import('@tessera/core').KeyRing;",
  token: 'declare const token: string;',
  request: 'declare const request: { headers: Record<string, string | undefined> };',
};

/** Libraries the adapter examples use. */
const LIBRARIES: Record<string, string> = {
  express: "import express from 'express';",
  Fastify: "import Fastify from 'fastify';",
  Hono: "import { Hono } from 'hono';",
  http: "import http from 'node:http';",
};

interface Example {
  file: string;
  pkg: string;
  index: number;
  code: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function extractExamples(file: string, pkg: string): Example[] {
  const examples: Example[] = [];
  for (const comment of readFileSync(file, 'utf8').match(/\/\*\*[\s\S]*?\*\//g) ?? []) {
    const lines = comment
      .replace(/^\/\*\*|\*\/$/g, '')
      .split('\n')
      .map((line) => line.replace(/^\s*\* ?/, ''));
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]?.trim().startsWith('@example')) continue;
      const body: string[] = [];
      for (let j = i + 1; j < lines.length && !(lines[j] ?? '').trim().startsWith('@'); j++) {
        body.push(lines[j] ?? '');
      }
      const code = body.filter((line) => !line.trim().startsWith('```')).join('\n');
      examples.push({ file, pkg, index: examples.length, code });
    }
  }
  return examples;
}

const examples = PACKAGES.flatMap((pkg) =>
  sourceFiles(join(ROOT, 'packages', pkg, 'src')).flatMap((file) => extractExamples(file, pkg)),
);

const compilerOptions = (() => {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), ts.sys.readFile).config;
  return ts.convertCompilerOptionsFromJson(config.compilerOptions, ROOT).options;
})();

/** Names each module exports, as the type checker sees them. */
function exportsOf(program: ts.Program, specifierOrFile: string, from: string): Set<string> {
  const checker = program.getTypeChecker();
  const resolved = ts.resolveModuleName(specifierOrFile, from, compilerOptions, ts.sys).resolvedModule;
  const source = resolved && program.getSourceFile(resolved.resolvedFileName);
  const symbol = source && checker.getSymbolAtLocation(source);
  return new Set(symbol ? checker.getExportsOfModule(symbol).map((s) => s.name) : []);
}

function typeCheck(): Map<Example, string[]> {
  const probe = join(ROOT, 'packages', 'testkit', 'src', '__probe.ts');
  const probeSource = [
    ...Object.values(ENTRIES).map((entry, i) => `import * as m${i} from '${entry}';`),
    ...examples.map((example, i) => `import * as f${i} from '${example.file}';`),
    `export { ${[...Object.values(ENTRIES).map((_, i) => `m${i}`), ...examples.map((_, i) => `f${i}`)].join(', ')} };`,
  ].join('\n');
  const virtual = new Map<string, string>([[probe, probeSource]]);
  const host = ts.createCompilerHost(compilerOptions);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (name) => virtual.get(name) ?? read(name);
  host.fileExists = (name) => virtual.has(name) || exists(name);
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => {
    const text = virtual.get(name);
    return text === undefined
      ? getSource(name, language, ...rest)
      : ts.createSourceFile(name, text, language);
  };
  const probeProgram = ts.createProgram([probe], compilerOptions, host);
  const entryNames = Object.entries(ENTRIES).map(([pkg, entry]) => ({
    pkg,
    entry,
    names: exportsOf(probeProgram, entry, probe),
  }));
  const files = new Map<Example, string>();
  for (const example of examples) {
    const used = new Set(example.code.match(/[A-Za-z_$][\w$]*/g) ?? []);
    const declared = new Set(
      [
        ...example.code.matchAll(/\b(?:const|let|var|function|class)\s+(?:\{([^}]*)\}|([A-Za-z_$][\w$]*))/g),
      ].flatMap((m) => (m[1] ? m[1].split(',').map((n) => n.split(':').pop()?.trim() ?? '') : [m[2] ?? ''])),
    );
    const wanted = [...used].filter((name) => !declared.has(name));
    const taken = new Set<string>();
    const lines: string[] = [];
    const take = (specifier: string, names: Set<string>) => {
      const picked = wanted.filter((name) => names.has(name) && !taken.has(name));
      for (const name of picked) taken.add(name);
      if (picked.length > 0) lines.push(`import { ${picked.join(', ')} } from '${specifier}';`);
    };
    take(example.file, exportsOf(probeProgram, example.file, probe));
    for (const { pkg, entry, names } of entryNames) if (pkg === example.pkg) take(entry, names);
    for (const { entry, names } of entryNames) take(entry, names);
    for (const name of wanted) {
      if (taken.has(name)) continue;
      const input = INPUTS[name] ?? LIBRARIES[name];
      if (input !== undefined) lines.push(input);
    }
    const path = join(dirname(example.file), `__example_${example.index}_${files.size}.ts`);
    virtual.set(path, `${lines.join('\n')}\nexport {};\n${example.code}\n`);
    files.set(example, path);
  }
  const program = ts.createProgram([...files.values()], compilerOptions, host);
  const results = new Map<Example, string[]>();
  for (const [example, path] of files) {
    const source = program.getSourceFile(path);
    const diagnostics = source
      ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
      : [];
    results.set(
      example,
      diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    );
  }
  return results;
}

describe('TSDoc examples', () => {
  it('finds the examples of every package', () => {
    expect(new Set(examples.map((e) => e.pkg))).toEqual(new Set(PACKAGES));
  });

  it('every @example compiles', { timeout: 120_000 }, () => {
    const failures = [...typeCheck()]
      .filter(([, errors]) => errors.length > 0)
      .map(
        ([example, errors]) =>
          `${example.file.slice(ROOT.length + 1)} #${example.index}: ${errors.join('; ')}`,
      );
    expect(failures).toEqual([]);
  });
});
