// The scheduled data key rotation under its lease: one instance of the fleet runs it per interval, so two
// instances never rotate the same tenant twice (nor audit a rotation that did nothing).
import { rotationSweep } from '../crypto/rotation.js';
import type { Runtime } from '../runtime.js';
import { runLeased, type LeasedRun } from './lease.js';

export const ROTATION_EVERY_MS = 60 * 60_000;

export function runRotationSweep(
  runtime: Pick<Runtime, 'db' | 'keyring' | 'audit' | 'config'>,
  holder: string,
  opts: { signal?: AbortSignal; everyMs?: number } = {},
): Promise<LeasedRun<Awaited<ReturnType<typeof rotationSweep>>>> {
  return runLeased(
    runtime.db,
    {
      name: 'data-key-rotation',
      holder,
      ttlMs: 10 * 60_000,
      everyMs: opts.everyMs ?? ROTATION_EVERY_MS,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    () => rotationSweep(runtime.db, { keyring: runtime.keyring, audit: runtime.audit, days: runtime.config.dataKeyRotationDays }),
  );
}
