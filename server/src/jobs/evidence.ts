// The evidence sweep under its lease: one instance of the fleet checks the subscribed tenants per interval
// and builds a new pack version for each whose policies changed (see evidence/service.ts).
import { evidenceSweep } from '../evidence/service.js';
import type { Runtime } from '../runtime.js';
import { runLeased, type LeasedRun } from './lease.js';

export const EVIDENCE_JOB = 'evidence-packs';
/** A policy change shows in a kept pack within this long. */
export const EVIDENCE_EVERY_MS = 10 * 60_000;

export function runEvidenceSweep(
  runtime: Pick<Runtime, 'db' | 'audit'>,
  holder: string,
  opts: { signal?: AbortSignal; now?: boolean } = {},
): Promise<LeasedRun<Awaited<ReturnType<typeof evidenceSweep>>>> {
  return runLeased(
    runtime.db,
    {
      name: EVIDENCE_JOB,
      holder,
      ttlMs: 10 * 60_000,
      everyMs: EVIDENCE_EVERY_MS,
      ignoreSchedule: !!opts.now,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    () => evidenceSweep({ db: runtime.db, audit: runtime.audit }),
  );
}
