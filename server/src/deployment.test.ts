// What can be checked of the container image and the compose file without Docker: the Dockerfile copies
// what exists and everything the server reads at run time, runs as a non-root user, and probes a real
// route; compose sets only settings config.ts reads, keeps secrets in env files, and yields a config that
// production accepts. (.ci/run builds the image itself where a Docker daemon and the base image exist.)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EnvSchema, loadConfig } from './config.js';
import { startTestApp, type TestApp } from './test/app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const SETTINGS = new Set(Object.keys(EnvSchema.shape));

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  body: Instruction[];
}

/** The Dockerfile's instructions by stage (continuation lines joined, comments dropped). */
function dockerfileStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (op!.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args!)!;
      stages.push({ name: name ?? String(stages.length), from: from!, body: [] });
    } else stages.at(-1)?.body.push({ op: op!.toUpperCase(), args: args! });
  }
  return stages;
}

/** A COPY's options, sources and destination. */
function copyOf(args: string): { from: string | null; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length) ?? null;
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe('the Dockerfile', () => {
  const stages = dockerfileStages(read('Dockerfile'));
  const byName = new Map(stages.map((s) => [s.name, s]));
  const runtime = stages.at(-1)!;
  const workspaces: string[] = JSON.parse(read('package.json')).workspaces;

  test('has a build stage, a production-dependencies stage and a runtime stage built from one base image', () => {
    expect(stages.map((s) => s.name)).toEqual(['manifests', 'build', 'deps', 'runtime']);
    const buildRuns = byName
      .get('build')!
      .body.filter((i) => i.op === 'RUN')
      .map((i) => i.args);
    expect(buildRuns[0]).toMatch(/^npm ci\b/);
    expect(buildRuns.some((r) => /^npm run build\b/.test(r))).toBe(true);
    expect(byName.get('deps')!.body.find((i) => i.op === 'RUN')!.args).toMatch(/^npm ci --omit=dev --workspace=@parley\/server\b/);
    // Nothing in the runtime stage installs: it only copies from the stages above.
    expect(runtime.body.filter((i) => i.op === 'RUN').map((i) => i.args)).toEqual([expect.not.stringMatching(/npm|apt/)]);
  });

  test('copies every workspace manifest npm ci needs, and only sources that exist', () => {
    const copies = stages.flatMap((s) => s.body.filter((i) => i.op === 'COPY').map((i) => copyOf(i.args)));
    const fromContext = copies.filter((c) => c.from === null).flatMap((c) => c.sources);
    for (const source of fromContext) if (source !== '.') expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
    const manifests = fromContext.filter((s) => s.endsWith('/package.json')).map((s) => s.slice(0, -'/package.json'.length));
    expect(manifests.sort()).toEqual([...workspaces].sort());
  });

  test('the runtime stage holds everything the server reads from the tree at run time', () => {
    const copied = runtime.body
      .filter((i) => i.op === 'COPY')
      .map((i) => copyOf(i.args))
      .filter((c) => c.from === 'build')
      .flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, '')));
    // server/src/static/routes.ts (widget, console, docs, demo page), db/migrate.ts, cli/demo.ts, the bin.
    const needed = [
      'server/bin',
      'server/dist',
      'server/migrations',
      'server/package.json',
      'protocol/dist',
      'protocol/package.json',
      'widget/dist',
      'console/dist',
      'docs-site/dist',
      'examples/host-page',
      'examples/demo-knowledge',
    ];
    expect(copied).toEqual(expect.arrayContaining(needed));
    // Whatever is copied exists in the tree, or is a package's build output that the build stage makes.
    const built = /--filter=(\S+)/g;
    const filters = [
      ...byName
        .get('build')!
        .body.map((i) => i.args)
        .join(' ')
        .matchAll(built),
    ].map((m) => m[1]);
    for (const path of copied) {
      const dist = /^(.+)\/dist$/.exec(path);
      if (!dist) {
        expect(existsSync(join(ROOT, path)), path).toBe(true);
        continue;
      }
      const pkg = JSON.parse(read(`${dist[1]}/package.json`));
      const builtByFilter =
        filters.includes(pkg.name) || filters.some((f) => JSON.parse(read(`${f!.split('/')[1]}/package.json`)).dependencies?.[pkg.name]);
      expect(builtByFilter, `${path} is built by the build stage`).toBe(true);
    }
  });

  test('runs as an unprivileged user, with the data folder and /tmp as volumes', () => {
    const users = runtime.body.filter((i) => i.op === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const env = runtime.body.filter((i) => i.op === 'ENV').map((i) => i.args);
    expect(env.join(' ')).toMatch(/PARLEY_DATA_DIR=\/data\b/);
    const volumes = runtime.body.find((i) => i.op === 'VOLUME')!.args;
    expect(JSON.parse(volumes)).toEqual(['/data', '/tmp']);
  });

  test('runs as production: PARLEY_ENV is set, so a bare `docker run` is not a development server', () => {
    const env = runtime.body.filter((i) => i.op === 'ENV').map((i) => i.args);
    expect(env.join(' ')).toMatch(/\bPARLEY_ENV=production\b/);
  });

  test('sets only settings that config.ts reads (besides NODE_ENV)', () => {
    const keys = runtime.body.filter((i) => i.op === 'ENV').flatMap((i) => [...i.args.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => k !== 'NODE_ENV' && !SETTINGS.has(k))).toEqual([]);
  });

  test('starts `parley serve` through the package bin', () => {
    const entry = JSON.parse(runtime.body.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    const cmd = JSON.parse(runtime.body.find((i) => i.op === 'CMD')!.args) as string[];
    expect(entry[0]).toBe('node');
    expect(entry[1]).toBe(`/app/server/${JSON.parse(read('server/package.json')).bin.parley.replace(/^\.\//, '')}`);
    expect(cmd).toEqual(['serve']);
  });

  describe('its HEALTHCHECK', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t?.close());

    const healthcheck = () => {
      const args = runtime.body.find((i) => i.op === 'HEALTHCHECK')!.args;
      const cmd = JSON.parse(args.slice(args.indexOf('CMD ') + 4)) as string[];
      expect(cmd[0]).toBe('node');
      return cmd.slice(1);
    };
    const run = (port: string) =>
      promisify(execFile)(process.execPath, healthcheck(), { env: { PORT: port }, timeout: 10_000 }).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );

    test('probes /readyz, and succeeds against a running server', async () => {
      expect(healthcheck().join(' ')).toContain('/readyz');
      expect(await run(new URL(t.url).port)).toBe(0);
    });

    test('fails when nothing answers', async () => {
      // A port that was just free: nothing listens on it.
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = String((probe.address() as AddressInfo).port);
      await new Promise((resolve) => probe.close(resolve));
      expect(await run(port)).toBe(1);
    });
  });
});

describe('compose.yaml', () => {
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as {
    services: Record<
      string,
      {
        build?: string;
        command?: string[];
        environment?: Record<string, string>;
        env_file?: string[];
        ports?: string[];
        expose?: string[];
        volumes?: string[];
        read_only?: boolean;
      }
    >;
  };
  const services = Object.entries(compose.services);
  const parley = services.filter(([, s]) => s.build === '.');
  const instances = parley.filter(([, s]) => !s.command);
  // Compose's ${VAR:?message} interpolation, with the value an operator would give.
  const interpolate = (value: string) => value.replace(/\$\{PARLEY_DOMAIN[^}]*\}/g, 'support.example.com');

  test('runs at least two Parley instances, all built from this repository, plus a one-off migration', () => {
    expect(instances.length).toBeGreaterThanOrEqual(2);
    expect(parley.filter(([, s]) => s.command).map(([, s]) => s.command)).toEqual([['migrate']]);
  });

  test('sets only settings config.ts reads, and no secret inline', () => {
    for (const [name, s] of parley) {
      const keys = Object.keys(s.environment ?? {});
      expect(
        keys.filter((k) => !SETTINGS.has(k)),
        name,
      ).toEqual([]);
      expect(
        keys.filter((k) => /KEY|PASSWORD|SECRET|DATABASE_.*URL|SMTP_URL/.test(k)),
        `${name}: secrets come from env files`,
      ).toEqual([]);
    }
  });

  test('every env file has a committed example; those files are kept out of git and of the image build', () => {
    const files = new Set(services.flatMap(([, s]) => s.env_file ?? []));
    expect(files.size).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(join(ROOT, `${file}.example`)), `${file}.example`).toBe(true);
    expect(read('.gitignore').split('\n')).toContain('deploy/*.env');
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['**/*.env', '.git', '**/node_modules']));
  });

  test('the instances get a config that production accepts, behind a trusted proxy, on PostgreSQL', () => {
    for (const [name, s] of instances) {
      const fromFiles = Object.assign({}, ...(s.env_file ?? []).map((f) => envFile(read(`${f}.example`))));
      expect(
        Object.keys(fromFiles).filter((k) => !SETTINGS.has(k)),
        name,
      ).toEqual([]);
      const env: Record<string, string> = {
        ...fromFiles,
        // The example leaves the keys blank for the operator: production refuses them until they are set.
        PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
        PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
        PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-compose-')),
        ...Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))])),
      };
      const config = loadConfig(env);
      expect(config).toMatchObject({ env: 'production', trustProxy: true, host: '0.0.0.0', publicUrl: 'https://support.example.com' });
      expect(config.databaseUrl).toMatch(/^postgres:\/\/parley_app[:@]/);
      expect(config.databaseOwnerUrl).toMatch(/^postgres:\/\//);
      expect(config.databaseOwnerUrl).not.toBe(config.databaseUrl);
      expect(() => loadConfig({ ...env, PARLEY_MASTER_KEY: fromFiles.PARLEY_MASTER_KEY })).toThrow(/PARLEY_MASTER_KEY/);
    }
  });

  test('the instances are reachable only through the proxy, which balances over all of them and checks /readyz', () => {
    for (const [name, s] of parley) {
      expect(s.ports, `${name} publishes no port`).toBeUndefined();
      expect(s.read_only, `${name} has a read-only root filesystem`).toBe(true);
    }
    const caddyfile = read('deploy/Caddyfile');
    const upstreams = /reverse_proxy\s+([^{]+)\{/.exec(caddyfile)![1]!.trim().split(/\s+/);
    expect(upstreams.sort()).toEqual(instances.map(([name]) => `${name}:8787`).sort());
    expect(caddyfile).toMatch(/health_uri \/readyz\b/);
    const proxy = services.find(([, s]) => s.volumes?.some((v) => v.startsWith('./deploy/Caddyfile:')));
    expect(proxy?.[1].ports).toEqual(expect.arrayContaining(['443:443']));
  });

  test('mounts only files that exist', () => {
    const mounts = services.flatMap(([, s]) => (s.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':')[0]!));
    expect(mounts.length).toBeGreaterThan(0);
    for (const path of mounts) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });
});
