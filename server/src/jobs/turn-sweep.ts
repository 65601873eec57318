// The turn sweeper: finishes the turns of an instance that died between storing a visitor's question and
// storing its answer. Such a question is still owed (pending_answers) and its claim has lapsed; the
// sweeper claims it (atomically, so a racing retry of the message or another sweeper cannot run it
// too), runs the answer as the turn would have, and stores it, or hands the conversation to a person
// when the question has already failed several times. It runs under the `turn-sweep` lease: one
// instance at a time, resumed elsewhere soon after that one dies (see sweepLeaseMs).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConversationRow } from '../conversations/service.js';
import { claimOwed, lapsedOwed, settleOwed } from '../conversations/pending.js';
import { answerOwed, DEFAULT_CLAIM_MS, historyBefore, type TurnDeps } from '../conversations/turn.js';
import { asWorker, runLeased, type LeasedRun } from './lease.js';

export const TURN_SWEEP_JOB = 'turn-sweep';
/** Claims after the first: a question whose answer failed this often goes to a person instead. */
const MAX_ATTEMPTS = 3;
const BATCH = 50;

export interface TurnSweepCounts {
  answered: number;
  handedOff: number;
}

/** Answers (or hands off) every owed question whose claim has lapsed, now (no lease). */
export async function finishOrphanedTurns(deps: TurnDeps, opts: { signal?: AbortSignal; logger?: Logger } = {}): Promise<TurnSweepCounts> {
  const claimMs = deps.claimMs ?? DEFAULT_CLAIM_MS;
  const counts: TurnSweepCounts = { answered: 0, handedOff: 0 };
  const due = await asWorker(deps.db, (tx) => lapsedOwed(tx, BATCH));
  for (const o of due) {
    if (opts.signal?.aborted) break;
    const requestId = randomUUID();
    const claimed = await deps.db.withTenant(o.tenant_id, { requestId }, async (tx) => {
      const claim = await claimOwed(tx, o.message_id, claimMs);
      if (!claim) return null;
      const c = (await tx.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [o.conversation_id])).rows[0];
      const m = (await tx.query<{ text: string }>("SELECT text FROM messages WHERE id = $1 AND role = 'visitor'", [o.message_id])).rows[0];
      // Gone, or a person has the conversation now: nothing is owed any more.
      if (!c || !m || c.status !== 'open') {
        await settleOwed(tx, o.message_id);
        return null;
      }
      return { conversation: c, question: m.text, history: await historyBefore(tx, c.id, o.message_id), attempts: claim.attempts, pick: claim.pick };
    });
    if (!claimed) continue;
    const handOff = claimed.attempts > MAX_ATTEMPTS;
    try {
      const out = await answerOwed(
        deps,
        {
          tenantId: o.tenant_id,
          conversation: claimed.conversation,
          messageId: o.message_id,
          question: claimed.question,
          history: claimed.history,
          requestId,
          ...(claimed.pick ? { pick: claimed.pick } : {}),
          actor: { type: 'system', id: TURN_SWEEP_JOB },
        },
        handOff ? { handOff: 'provider_error' } : {},
        () => {},
      );
      if (out === 'answered') counts[handOff ? 'handedOff' : 'answered']++;
    } catch (err) {
      // The claim lapses and the next run tries again (a person takes it after MAX_ATTEMPTS).
      opts.logger?.warn({ tenantId: o.tenant_id, err: { message: (err as Error).message } }, 'an orphaned turn failed again');
    }
  }
  return counts;
}

/** How often an instance tries the sweep: every half claim, within 1 s..30 s. */
export const sweepEveryMs = (claimMs: number) => Math.min(Math.max(claimMs / 2, 1000), 30_000);

/**
 * The sweep lease lapses with the answer claim (within 5 s..60 s): a sweeper that dies mid-run, often
 * while waiting on a model, holds up the whole fleet's sweeps no longer than its claims hold up the
 * questions. Two sweepers at once are harmless anyway: each question is claimed atomically.
 */
export const sweepLeaseMs = (claimMs: number) => Math.min(Math.max(claimMs, 5_000), 60_000);

/** The scheduled sweep: on the instance holding the lease, every `everyMs` across the fleet. */
export async function runTurnSweep(
  deps: TurnDeps,
  holder: string,
  opts: { everyMs: number; signal?: AbortSignal; logger?: Logger },
): Promise<LeasedRun<TurnSweepCounts>> {
  return runLeased(
    deps.db,
    {
      name: TURN_SWEEP_JOB,
      holder,
      ttlMs: sweepLeaseMs(deps.claimMs ?? DEFAULT_CLAIM_MS),
      everyMs: opts.everyMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    async ({ signal }) => {
      const counts = await finishOrphanedTurns(deps, { signal, ...(opts.logger ? { logger: opts.logger } : {}) });
      if (counts.answered || counts.handedOff) opts.logger?.info(counts, 'orphaned turns finished');
      return counts;
    },
  );
}
