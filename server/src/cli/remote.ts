// CLI commands that change data, when `parley serve` holds the embedded database: asked of the running
// server on its platform API with the key from its control file (platform/control.ts), so they are
// audited in the platform log as the CLI.
import type { Problem } from '@parley/protocol';
import type { Config } from '../config.js';
import { existsSync } from 'node:fs';
import { databaseUrlFor, EmbeddedDbLockedError } from '../db/index.js';
import { readControlFile } from '../platform/control.js';

/**
 * Runs `local`; if the embedded database is held by a running server, sends the request to it instead.
 * Says so when `local` had to make a new embedded database: a PARLEY_DATA_DIR other than the server's
 * would otherwise put the tenant or invitation where no server reads it, silently.
 */
export async function locallyOrViaServer<T, R = T>(
  config: Config,
  local: () => Promise<T>,
  remote: { method: string; path: string; body: unknown; fromServer?: (body: R) => T },
): Promise<T> {
  const fresh = !config.databaseUrl && !existsSync(databaseUrlFor(config));
  try {
    const out = await local();
    if (fresh)
      process.stderr.write(
        `parley: there was no database in ${config.dataDir}, so this made a new one and wrote to it. If \`parley serve\` runs with another PARLEY_DATA_DIR (or DATABASE_URL), set the same here.\n`,
      );
    return out;
  } catch (err) {
    if (!(err instanceof EmbeddedDbLockedError)) throw err;
    const control = readControlFile(config.dataDir);
    // Only the process holding the lock: a stale file from a crashed server names nobody.
    if (!control || control.pid !== err.pid) throw err;
    process.stderr.write(`parley: the embedded database is in use by the running server (pid ${control.pid}); asking it at ${control.url}\n`);
    const res = await fetch(control.url + remote.path, {
      method: remote.method,
      headers: { authorization: `Bearer ${control.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(remote.body),
    });
    const body = (await res.json()) as R | Problem;
    if (!res.ok) {
      const p = body as Problem;
      const details = (p.errors ?? []).map((e) => `\n  ${e.path || '/'}: ${e.message}`).join('');
      throw new Error(`${p.detail ?? p.title} (request ${p.request_id})${details}`);
    }
    return remote.fromServer ? remote.fromServer(body as R) : (body as unknown as T);
  }
}
