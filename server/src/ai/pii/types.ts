// The policy's shape (classes, modes, channels, defaults) is protocol's: the admin API validates it
// there. This module adds what only the engine needs.
import {
  DEFAULT_PII_POLICY,
  PII_CHANNELS,
  PII_CLASSES,
  PII_MODES,
  PiiClassPolicySchema,
  PiiPolicySchema,
  type PiiChannel,
  type PiiClass,
  type PiiClassPolicy,
  type PiiMode,
  type PiiPolicy,
} from '@parley/protocol';

export { PII_CLASSES, PiiPolicySchema, type PiiClass, type PiiPolicy };
export const MODES = PII_MODES;
export type Mode = PiiMode;
export const CHANNELS = PII_CHANNELS;
export type Channel = PiiChannel;
export type ClassPolicy = PiiClassPolicy;
export const ClassPolicySchema = PiiClassPolicySchema;
export const defaultPolicy: PiiPolicy = DEFAULT_PII_POLICY;

/** A recognised span. `start`/`end` are UTF-16 code unit offsets (JavaScript string indices), end exclusive. */
export interface Match {
  class: PiiClass;
  start: number;
  end: number;
  /** Confidence in [0, 1]. */
  score: number;
  text: string;
  /**
   * Where masking starts when it starts before the value: an honorific ("Mrs. Voronov") is masked with the
   * name it belongs to, as it gives away gender or profession, but is not part of the name (the span, the
   * token's fingerprint, the figures), so "Mrs. Voronov" and "Voronov" get the same token.
   */
  maskStart?: number;
}

/** The mode a class gets on a channel under a policy. */
export function modeFor(policy: PiiPolicy, cls: PiiClass, channel: Channel): Mode {
  const p = policy.classes[cls];
  return p.channels?.[channel] ?? p.mode;
}
