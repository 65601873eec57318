// `parley serve` as a child process, as an operator runs it: the CLI, shutdown, lost-turn, instances and
// tracing tests start it through here.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parleyOrigins } from './contract.js';
import { createTestDb, newDataDir, serverUrl } from './db.js';
import { startFakeLlm, type FakeLlm } from './fake-llm.js';

export const cliMain = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
export const serverDir = fileURLToPath(new URL('../../', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Every compiled source of a package (its src, tests aside) has an output in dist at least as new as itself. */
function builtFrom(pkg: string): boolean {
  const src = join(repo, pkg, 'src');
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    const file = join(entry.parentPath, entry.name);
    const rel = relative(src, file);
    if (!entry.isFile() || !/\.tsx?$/.test(rel) || /\.test\.tsx?$|\.d\.ts$/.test(rel) || rel.startsWith('test/')) continue;
    const out = join(repo, pkg, 'dist', rel.replace(/\.tsx?$/, '.js'));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(file).mtimeMs) return false;
  }
  return true;
}

/**
 * How tests run the parley CLI: built, as the `parley` bin runs it, when the build is current (CI builds
 * before it tests), else from the sources through tsx, whose loader hooks add about a second to every start: the CLI,
 * serve and restart tests start dozens of processes. PARLEY_TEST_CLI=source always takes the sources.
 */
const runBuilt = process.env.PARLEY_TEST_CLI !== 'source' && ['protocol', 'sdk-node', 'server'].every(builtFrom);

/** node's arguments for `parley <args>`, with `nodeArgs` (e.g. `--import` a preload) before the script. */
export function cliArgv(args: readonly string[], nodeArgs: readonly string[] = []): string[] {
  return runBuilt
    ? [...nodeArgs, join(serverDir, 'dist/cli/main.js'), ...args]
    : ['--conditions=parley-source', '--import', 'tsx', ...nodeArgs, cliMain, ...args];
}

export interface ServedChild {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  log(): string;
  /** Resolves with the exit code (null when killed by a signal) once it has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/**
 * Starts `parley serve` with `env` over the test process's environment; resolves once it listens.
 * `nodeArgs` go to node before the script, `serveArgs` to `parley serve` (e.g. `--seed-demo`).
 */
export async function serveChild(env: Record<string, string>, nodeArgs: string[] = [], serveArgs: string[] = []): Promise<ServedChild> {
  const child = spawn(process.execPath, cliArgv(['serve', ...serveArgs], nodeArgs), {
    cwd: serverDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', () => {
        const m = /running on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${out.slice(-2000)}`)));
    });
    const origin = new URL(url).origin;
    parleyOrigins.add(origin);
    // As a test app's close does: its port may go to a server of another kind later in this worker.
    const forget = () => {
      parleyOrigins.delete(origin);
      return stop();
    };
    return { url, child, log: () => out, exited, stop: forget };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs one `parley` command (not serve) to its end. */
export async function runCli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(process.execPath, cliArgv(args), { cwd: serverDir, env: { ...process.env, ...env }, timeout: 240_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Server-sent events of a response as they arrive (the stream's own end ends the iteration). */
export async function* sseEvents(res: Response): AsyncGenerator<{ event: string; data: any; id?: string; retry?: number }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const e: { event: string; data: any; id?: string; retry?: number } = { event: 'message', data: null };
      let data = false;
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) {
          e.data = JSON.parse(line.slice(6));
          data = true;
        } else if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('retry: ')) e.retry = Number(line.slice(7));
      }
      if (data) yield e;
    }
  }
}

/** A deployment for `parley serve` children: a data folder, a database, a fake model, and one tenant made with the CLI. */
export interface CliDeployment {
  env: Record<string, string>;
  llm: FakeLlm;
  tenant: { publishableKey: string; secretKey: string };
  close(): Promise<void>;
}

/** Sets up a CliDeployment (on PostgreSQL when the tests run there); `name` labels its data folder. */
export async function cliDeployment(name: string): Promise<CliDeployment> {
  const dataDir = await newDataDir(`parley-${name}-`);
  const env: Record<string, string> = { PARLEY_DATA_DIR: dataDir, LOG_LEVEL: 'warn', PORT: '0' };
  const testDb = serverUrl ? await createTestDb({ migrate: false }) : null;
  if (testDb) env.DATABASE_URL = testDb.url!;
  const llm = await startFakeLlm();
  const close = async () => {
    await llm.close();
    await testDb?.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const created = await runCli(env, 'tenants', 'create', '--name', 'Shop', '--domain', 'shop.example', '--json');
  if (created.code !== 0) {
    await close();
    throw new Error(`tenants create exited ${created.code}: ${created.stderr}`);
  }
  return { env, llm, tenant: JSON.parse(created.stdout), close };
}
