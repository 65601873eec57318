// Actions the built-in answerer offers (no provider configured): an enabled action whose name or
// description the visitor's question matches the way a passage heading would (knowledge/intent.ts's
// heading coverage, with the same threshold), for a verified visitor only. An offer proposes nothing:
// the visitor confirms it through the widget's action route, which proposes it on the approval rail.
import type { ActionOffer } from '@parley/protocol';
import * as store from '../approvals/store.js';
import type { Tx } from '../db/types.js';
import type { WeightedTerm } from '../knowledge/expand.js';
import { headingMatch } from '../knowledge/intent.js';
import { HEADING } from '../knowledge/lexical.js';

/** The inputs an action needs, from its JSON Schema's top-level properties. */
function fieldsOf(schema: Record<string, unknown>): ActionOffer['fields'] {
  const props = (schema.properties ?? {}) as Record<string, { type?: unknown; description?: unknown }>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(props).map(([name, p]) => ({
    name,
    type: typeof p?.type === 'string' ? p.type : 'string',
    required: required.has(name),
    ...(typeof p?.description === 'string' ? { description: p.description } : {}),
  }));
}

/** The enabled action the question matches best, when it matches as well as a heading must. */
export async function actionOffer(tx: Tx, question: string, terms: readonly WeightedTerm[]): Promise<ActionOffer | null> {
  let best: { action: store.ActionRow; score: number } | null = null;
  for (const action of await store.listActions(tx)) {
    if (!action.enabled) continue;
    const score = Math.max(
      headingMatch(question, terms, action.name.replace(/_/g, ' ')).coverage,
      headingMatch(question, terms, action.description).coverage,
    );
    if (score >= HEADING.coverage && (!best || score > best.score)) best = { action, score };
  }
  if (!best) return null;
  const a = best.action;
  return { actionId: a.id, name: a.name, description: a.description, risk: a.risk, fields: fieldsOf(a.input_schema) };
}

/** What the assistant says with an offer it makes instead of handing off. */
export const offerText = (o: ActionOffer) =>
  `I can send this request for you: ${o.description}. Confirm below${o.risk === 'read' ? '' : '; a person will check it before anything is done'}.`;
