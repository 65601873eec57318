// Evidence packs for auditors: what a pack is asked for with, and the frameworks its report maps to.
import { z } from 'zod';

/** The frameworks an evidence pack's report maps its contents to. */
export const EVIDENCE_FRAMEWORKS = ['soc2', 'eu-ai-act', 'nist-ai-rmf', 'iso-42001'] as const;
/** One framework an evidence pack can be mapped to. */
export type EvidenceFramework = (typeof EVIDENCE_FRAMEWORKS)[number];

/** The longest period one pack covers: a year and a day, so a yearly audit fits. */
export const MAX_EVIDENCE_PERIOD_DAYS = 366;

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
