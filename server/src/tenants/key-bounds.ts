// A key is worth no more than the person behind it is now (api_keys.created_by_member): read when a key
// authenticates (auth.ts) and when keys are listed (what they hold back).
import { capabilitiesOf, type Capability, type MemberRole } from '@parley/protocol';

export interface KeyMaker {
  role: MemberRole;
  status: string;
}

/**
 * Who made a key, as they are now: a member; `gone` when the member it names is no longer one (its
 * removal revokes their keys, so this is a key that escaped that: it is worth nothing); null for a key the
 * CLI made, which no person is behind.
 */
export type KeyMakerNow = KeyMaker | 'gone' | null;

/** What a key may use now: its capabilities within its maker's role, none unless they are an active member; a key the CLI made has no maker. */
export function usableCapabilities(capabilities: readonly Capability[], maker: KeyMakerNow): Capability[] {
  if (!maker) return [...capabilities];
  if (maker === 'gone' || maker.status !== 'active') return [];
  const role = new Set(capabilitiesOf(maker.role));
  return capabilities.filter((c) => role.has(c));
}

/** What a key holds but may not use now. */
export function heldBack(capabilities: readonly Capability[], maker: KeyMakerNow): Capability[] {
  const usable = new Set(usableCapabilities(capabilities, maker));
  return capabilities.filter((c) => !usable.has(c));
}
