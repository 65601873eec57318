// `parley serve` as an operator runs it: a child process (TypeScript sources through tsx).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const serverDir = fileURLToPath(new URL('../../', import.meta.url));

export interface ServedCli {
  /** Where it listens. */
  url: string;
  /** Stops it with SIGTERM, as an operator would, and waits for it to exit. */
  stop(): Promise<void>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

/** Starts `parley serve` with `env` over this process's environment; `nodeArgs` go to node before the script. */
export async function serveCli(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServedCli> {
  const child = spawn(process.execPath, ['--conditions=parley-source', '--import', 'tsx', ...nodeArgs, main, 'serve'], {
    cwd: serverDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /running on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    return { url, stop, stderr: () => err };
  } catch (e) {
    await stop();
    throw e;
  }
}
