// `parley serve` as an operator runs it: a child process (from the sources, through tsx) until stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const cliMain = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
export const serverDir = fileURLToPath(new URL('../../', import.meta.url));

export interface ServeChild {
  /** Where it listens. */
  url: string;
  child: ChildProcess;
  /** SIGTERM, then waits for the exit (a no-op once it has exited). */
  stop(): Promise<void>;
}

/** Starts `parley serve` with `env` over the current environment; resolves once it listens. */
export async function startServe(env: Record<string, string>): Promise<ServeChild> {
  const child = spawn(process.execPath, ['--conditions=parley-source', '--import', 'tsx', cliMain, 'serve'], {
    cwd: serverDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /running on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    return { url, child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
