// A reason a person types to reach personal data (a reveal, a data-subject request, restricted values in a
// workspace export) as Parley keeps it: every personal value the PII engine finds taken out, as on the way to
// a model (`[EMAIL_K1]`, `[PERSON_K1]`). A reason often names the person it is about, and the audit log that
// keeps it is never edited, so a name or address typed there would outlive the person's erasure. The audit
// log applies it to every reason it is given (audit/log.ts); it is idempotent, so a reason kept elsewhere
// first (an approval request) reads the same in the log.
import { defaultPolicy } from './index.js';
import { redactOutbound } from './outbound.js';

export const reasonForRecord = (reason: string): string => redactOutbound(reason, defaultPolicy);
