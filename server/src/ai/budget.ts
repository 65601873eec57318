// Per-tenant AI budgets: requests per minute and tokens per day, both counted in the database so a
// tenant's budget holds across every instance. The minute's counter is a fixed window (migration 082),
// counted in the caller's transaction: an admission rolled back is not counted.
import { DEFAULT_SETTINGS } from '@parley/protocol';
import { hitWindow, windowKey } from '../db/rate-windows.js';
import type { Tx } from '../db/types.js';
import { tenantSettings } from '../tenants/settings.js';

export interface Budget {
  requestsPerMinute: number;
  tokensPerDay: number;
}
export const DEFAULT_BUDGET: Budget = DEFAULT_SETTINGS.budget;

export const budgetFor = async (tx: Tx): Promise<Budget> => (await tenantSettings(tx)).budget;

/** Which budget is spent and how many seconds until it frees up. */
export interface BudgetRefusal {
  budget: 'requestsPerMinute' | 'tokensPerDay';
  retryAfterSeconds: number;
}

/** Counts one more provider call when it fits; otherwise says which budget refused it. */
export async function admitOrRefuse(tx: Tx, tenantId: string, budget: Budget): Promise<BudgetRefusal | null> {
  const { rows } = await tx.query<{ tokens: number; left: number }>(
    // Seconds to the next day in the database's own calendar, the one `current_date` counts in.
    'SELECT (SELECT tokens FROM ai_usage WHERE day = current_date) AS tokens, extract(epoch FROM (current_date + 1) - now())::float8 AS left',
  );
  if ((rows[0]?.tokens ?? 0) >= budget.tokensPerDay) {
    return { budget: 'tokensPerDay', retryAfterSeconds: Math.max(1, Math.ceil(Number(rows[0]!.left))) };
  }
  // Counted last: a call the day's tokens refuse does not spend the minute. Calls refused here count
  // (the window is already full, so it changes nothing).
  const minute = await hitWindow(tx, windowKey('ai-rpm', tenantId), 60_000);
  if (minute.hits > budget.requestsPerMinute) return { budget: 'requestsPerMinute', retryAfterSeconds: minute.resetInSeconds };
  return null;
}

/** Whether one more provider call fits; counts it when it does. */
export async function admit(tx: Tx, tenantId: string, budget: Budget): Promise<boolean> {
  return (await admitOrRefuse(tx, tenantId, budget)) === null;
}

export async function recordUsage(tx: Tx, tenantId: string, tokens: number): Promise<void> {
  await tx.query(
    `INSERT INTO ai_usage (tenant_id, day, requests, tokens) VALUES ($1, current_date, 1, $2)
     ON CONFLICT (tenant_id, day) DO UPDATE SET requests = ai_usage.requests + 1, tokens = ai_usage.tokens + EXCLUDED.tokens`,
    [tenantId, tokens],
  );
}
