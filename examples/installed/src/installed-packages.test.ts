import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, type Running, run, start } from './processes.ts';

// The four packages as a team outside this repository gets them: `npm pack`, installed from the
// tarballs into a fresh project in the temp dir, run with plain `node` (contract §9).
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SERVICES = join(REPO, 'examples/installed/services');
const ADMIN = 'installed-admin-token-0123456789abcdef';
const PASSWORD = 'installed packages password';

function manifest(dir: string): {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
} {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/** The publishable workspace packages (packages/*, not private): no list to keep in sync. */
const PACKAGES = readdirSync(join(REPO, 'packages'))
  .map((name) => join(REPO, 'packages', name))
  .filter((dir) => existsSync(join(dir, 'package.json')) && !manifest(dir).private);

/** Framework versions the repository itself is tested with (so the npm cache already has them). */
function rangeOf(name: string): string {
  for (const dir of [join(REPO, 'packages/guard'), REPO]) {
    const { dependencies = {}, devDependencies = {} } = manifest(dir);
    const range = devDependencies[name] ?? dependencies[name];
    if (range) return range;
  }
  throw new Error(`no version of ${name} in the repository`);
}

const NPM = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** npm's own settings from the caller (registry mirror, cache, proxy) and nothing else. */
function npmEnv(): Record<string, string> {
  const names = [
    'npm_config_registry',
    'npm_config_cache',
    'npm_config_userconfig',
    'HTTPS_PROXY',
    'HTTP_PROXY',
  ];
  const pass = [...names, ...names.map((n) => n.toLowerCase()), 'NO_PROXY', 'no_proxy'];
  return Object.fromEntries(
    pass.flatMap((name) => (process.env[name] ? [[name, process.env[name] as string]] : [])),
  );
}

describe('docs/use-the-guard.md', () => {
  it('shows exactly the services this test runs (examples/installed/services/*)', () => {
    const doc = readFileSync(join(REPO, 'docs/use-the-guard.md'), 'utf8');
    for (const file of readdirSync(SERVICES)) {
      expect(doc, file).toContain(readFileSync(join(SERVICES, file), 'utf8').trimEnd());
    }
  });
});

describe('the packed packages, installed outside the repository', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-installed-'));
    expect(relative(REPO, dir).startsWith('..')).toBe(true);
    const tarballs = join(dir, 'tarballs');
    mkdirSync(tarballs);
    const packStarted = Date.now();
    const packed = await run(
      'npm',
      ['pack', '--json', '--pack-destination', tarballs, ...PACKAGES.flatMap((p) => ['-w', p]), ...NPM],
      { cwd: REPO, env: npmEnv() },
    );
    expect(packed.code, packed.stderr).toBe(0);
    const files = (JSON.parse(packed.stdout) as Array<{ name: string; filename: string }>).map((p) => ({
      name: p.name,
      file: p.filename.replace(/^@/, '').replace('/', '-'),
    }));
    expect(files.map((f) => f.name).sort()).toEqual(PACKAGES.map((p) => manifest(p).name).sort());
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'a-team-service',
        private: true,
        type: 'module',
        dependencies: {
          ...Object.fromEntries(files.map((f) => [f.name, `file:../tarballs/${f.file}`])),
          express: rangeOf('express'),
          fastify: rangeOf('fastify'),
          hono: rangeOf('hono'),
          '@hono/node-server': rangeOf('@hono/node-server'),
        },
        devDependencies: {
          typescript: rangeOf('typescript'),
          '@types/node': rangeOf('@types/node'),
          '@types/express': rangeOf('@types/express'),
        },
      }),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['fastify-service.ts', 'wrong.ts'],
      }),
    );
    for (const file of readdirSync(SERVICES)) copyFileSync(join(SERVICES, file), join(project, file));
    const started = Date.now();
    console.log(`npm pack of ${files.length} packages: ${started - packStarted} ms`);
    const installed = await run('npm', ['install', ...NPM], {
      cwd: project,
      env: npmEnv(),
      timeoutMs: 240_000,
    });
    expect(installed.code, installed.stderr).toBe(0);
    console.log(`npm install of the tarballs outside the repository: ${Date.now() - started} ms`);
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships compiled JavaScript and types only: no TypeScript sources, tests or build info', () => {
    for (const name of PACKAGES.map((p) => manifest(p).name)) {
      const installedDir = join(dir, 'project/node_modules', name);
      const files = [...walk(installedDir)].map((f) => relative(installedDir, f));
      expect(
        files.filter((f) => /(?<!\.d)\.ts$/.test(f) || /\.test\.|testing\/|tsbuildinfo/.test(f)),
      ).toEqual([]);
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
    }
  });

  it('has no TypeScript loader in the production dependency tree (npm ls --omit=dev)', async () => {
    const listed = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: join(dir, 'project'),
      env: npmEnv(),
    });
    expect(listed.code, listed.stderr).toBe(0);
    const names = listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((path) => path.replace(/^.*node_modules\//, ''));
    expect(names).toContain('@tessera/server');
    expect(names).toContain('@tessera/guard');
    for (const loader of ['tsx', 'ts-node', 'esbuild', '@swc/core', '@swc-node/register', 'typescript']) {
      expect(names).not.toContain(loader);
    }
    expect(existsSync(join(dir, 'project/node_modules/tsx'))).toBe(false);
  });

  it('type-checks a TypeScript Fastify service with tsc --noEmit (and tsc catches a wrong use)', async () => {
    const project = join(dir, 'project');
    // One tsc run over the service and a file with a mistake (request.tessera is typed, so
    // this must not compile); libraries included (no skipLibCheck): our .d.ts must hold too.
    writeFileSync(
      join(project, 'wrong.ts'),
      "import '@tessera/guard/fastify';\nimport type { FastifyRequest } from 'fastify';\nexport const n = (r: FastifyRequest): number => r.tessera?.userId ?? 0;\n",
    );
    const checked = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], {
      cwd: project,
    });
    const errors = checked.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors.length, checked.stdout + checked.stderr).toBeGreaterThan(0);
    expect(
      errors.filter((line) => !line.startsWith('wrong.ts(')),
      checked.stdout,
    ).toEqual([]);
    expect(errors.join('\n')).toMatch(/^wrong\.ts\(3,\d+\): error TS2322/);
  }, 180_000);

  describe('the installed tessera bin and three services run with node alone', () => {
    let redis: RedisServer;
    const running: Running[] = [];
    let authUrl: string;
    const services: Record<string, string> = {};

    beforeAll(async () => {
      const project = join(dir, 'project');
      redis = await startRedis();
      const port = await freePort();
      authUrl = `http://127.0.0.1:${port}`;
      const env = {
        PORT: String(port),
        HOST: '127.0.0.1',
        TESSERA_REDIS_URL: redis.url,
        TESSERA_DATA_DIR: join(dir, 'data'),
        TESSERA_ADMIN_TOKEN: ADMIN,
        TESSERA_COOKIE_SECURE: 'false',
        TESSERA_AUTH_URL: authUrl,
        LOG_LEVEL: 'warn',
      };
      running.push(
        await start('node_modules/.bin/tessera', ['serve'], { cwd: project, env, ready: /listening on/ }),
      );
      const added = await run(
        'node_modules/.bin/tessera',
        ['user', 'add', 'alice', '--roles', 'user', '--password-stdin'],
        {
          cwd: project,
          env,
          stdin: `${PASSWORD}\n`,
        },
      );
      expect(added.code, added.stderr).toBe(0);
      for (const service of ['express', 'hono', 'node']) {
        const servicePort = await freePort();
        running.push(
          await start(process.execPath, [`${service}-service.mjs`], {
            cwd: project,
            env: { PORT: String(servicePort), TESSERA_AUTH_URL: authUrl, TESSERA_REDIS_URL: redis.url },
            ready: /listening on/,
          }),
        );
        services[service] = `http://127.0.0.1:${servicePort}`;
      }
    }, 60_000);

    afterAll(async () => {
      for (const process of running.reverse()) await process.stop();
      await redis?.stop();
    });

    it('log in → 200 from every service (403 on /admin without the role); log out → 401 everywhere', async () => {
      const { token } = await login(authUrl, 'alice', PASSWORD);
      const headers = { authorization: `Bearer ${token}` };
      for (const [name, url] of Object.entries(services)) {
        const whoami = await fetch(`${url}/whoami`, { headers });
        expect(whoami.status, name).toBe(200);
        expect(await whoami.json()).toMatchObject({ roles: ['user'] });
        expect((await fetch(`${url}/admin`, { headers })).status, name).toBe(403);
        expect((await fetch(`${url}/whoami`)).status, name).toBe(401);
      }
      const logout = await fetch(`${authUrl}/v1/logout`, { method: 'POST', headers });
      expect(logout.status).toBe(204);
      for (const [name, url] of Object.entries(services)) {
        await expect
          .poll(async () => (await fetch(`${url}/whoami`, { headers })).status, {
            timeout: 2000,
            interval: 20,
          })
          .toBe(401);
        const refused = await fetch(`${url}/whoami`, { headers });
        expect(refused.headers.get('content-type'), name).toContain('application/problem+json');
        expect(await refused.json()).toMatchObject({ code: 'session_revoked' });
      }
    });
  });
});

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}
