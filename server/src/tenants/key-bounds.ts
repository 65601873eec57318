// A key is worth no more than the person behind it is now (api_keys.created_by_member): read when a key
// authenticates (auth.ts) and when keys are listed (what they hold back).
import { capabilitiesOf, type Capability, type MemberRole } from '@parley/protocol';

export interface KeyMaker {
  role: MemberRole;
  status: string;
}

/** What a key may use now: its capabilities within its maker's role, none while they are disabled; a key the CLI made has no maker. */
export function usableCapabilities(capabilities: readonly Capability[], maker: KeyMaker | null): Capability[] {
  if (!maker) return [...capabilities];
  if (maker.status === 'disabled') return [];
  const role = new Set(capabilitiesOf(maker.role));
  return capabilities.filter((c) => role.has(c));
}

/** What a key holds but may not use now. */
export function heldBack(capabilities: readonly Capability[], maker: KeyMaker | null): Capability[] {
  const usable = new Set(usableCapabilities(capabilities, maker));
  return capabilities.filter((c) => !usable.has(c));
}
