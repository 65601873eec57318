// Redaction placeholders, the one definition of their format (no zod: the console and widget import it
// cheaply). Stored text carries `[EMAIL_1]`: numbered per conversation, restorable for the visitor and
// revealable by an agent. Text on its way to a model may also carry `[EMAIL_K1]`: a value found in
// knowledge or model output by the outbound pass, never restored.

/** The label of each class of personal data, as it appears in a placeholder. */
export const PLACEHOLDER_LABELS = [
  'PERSON',
  'EMAIL',
  'PHONE',
  'ADDRESS',
  'GOV_ID',
  'CARD',
  'BANK_ACCOUNT',
  'IP',
  'DOB',
  'SECRET',
  'HEALTH',
  'MINOR',
] as const;
export type PlaceholderLabel = (typeof PLACEHOLDER_LABELS)[number];

/** The `n`th value of a class in a conversation, e.g. `[EMAIL_1]`. */
export const placeholder = (label: PlaceholderLabel, n: number): string => `[${label}_${n}]`;

/** A value the outbound pass found (knowledge, model output): never restored, e.g. `[EMAIL_K1]`. */
export const outboundPlaceholder = (label: PlaceholderLabel, n: number | string): string => `[${label}_K${n}]`;

/** Any stored placeholder, anywhere in a text (global: use with `replace` or `matchAll`). */
export const PLACEHOLDER = /\[[A-Z_]+_\d+\]/g;

/** Exactly one stored placeholder, e.g. the token an agent asks to reveal. */
export const ONE_PLACEHOLDER = /^\[[A-Z_]+_\d+\]$/;

/**
 * Exactly the placeholders the redaction engine writes (its labels, counters it could reach), with the
 * label and number captured. Anything merely shaped like one (`[X_4111111111111111]`) is data.
 */
export const ENGINE_PLACEHOLDER = new RegExp(`\\[(${PLACEHOLDER_LABELS.join('|')})_(\\d{1,4})\\]`, 'g');
