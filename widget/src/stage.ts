import type { WidgetProposal } from '@parley/browser';

const OPEN = ['pending', 'approved', 'executing'];
/** How far along a proposal is: a late answer never takes a newer status back. */
export const stage = (p: WidgetProposal): number => (OPEN.includes(p.status) ? OPEN.indexOf(p.status) : 3);
