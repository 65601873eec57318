// Evidence packs for auditors: what a pack is asked for with, and the frameworks its report maps to.
import { z } from 'zod';
import { EVIDENCE_FRAMEWORKS, MAX_EVIDENCE_PERIOD_DAYS } from './constants.js';
import { queryInt } from './query.js';

const instant = z.iso.datetime({ offset: true });

/** POST /v1/admin/evidence/packs: the framework the report maps to and the period the pack covers. */
export const EvidencePackRequest = z
  .strictObject({
    framework: z.enum(EVIDENCE_FRAMEWORKS),
    from: instant,
    to: instant,
  })
  .superRefine((v, ctx) => {
    const span = Date.parse(v.to) - Date.parse(v.from);
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_EVIDENCE_PERIOD_DAYS * 86_400_000)
      ctx.addIssue({ code: 'custom', path: ['to'], message: `a pack covers at most ${MAX_EVIDENCE_PERIOD_DAYS} days` });
  });
/** An evidence pack request. */
export type EvidencePackRequest = z.infer<typeof EvidencePackRequest>;

/** PUT /v1/admin/evidence/subscription: keep a pack of the last `periodDays` current as policies change. */
export const EvidenceSubscriptionRequest = z.strictObject({
  framework: z.enum(EVIDENCE_FRAMEWORKS),
  periodDays: z.number().int().min(1).max(MAX_EVIDENCE_PERIOD_DAYS),
});
/** An evidence subscription request. */
export type EvidenceSubscriptionRequest = z.infer<typeof EvidenceSubscriptionRequest>;

/** The tenant's subscription, or null when it has none. */
export const EvidenceSubscriptionResponse = z.object({
  subscription: z.object({ framework: z.enum(EVIDENCE_FRAMEWORKS), periodDays: z.number().int(), updatedAt: z.iso.datetime() }).nullable(),
});

/** One kept pack version; `supersededAt` is set once policies changed and a newer version replaced it. */
export const EvidencePackSummary = z.object({
  version: z.number().int().min(1),
  framework: z.enum(EVIDENCE_FRAMEWORKS),
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.iso.datetime(),
  supersededAt: z.iso.datetime().nullable(),
});
/** A kept evidence pack version. */
export type EvidencePackSummary = z.infer<typeof EvidencePackSummary>;

/** GET /v1/admin/evidence/packs: the kept versions, newest first. */
export const EvidencePackListResponse = z.object({ packs: z.array(EvidencePackSummary) });

/** The path of GET /v1/admin/evidence/packs/:version, a kept version number. */
export const EvidencePackParams = z.strictObject({ version: queryInt(1, 2_147_483_647) });
