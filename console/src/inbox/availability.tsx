// The agent's own availability in the header: available or away, set with one switch, seen live by
// teammates (the assign menu shows it).
import type { AdminMe, AvailabilityResponse } from '@parley/protocol';
import type { Api } from '../api.js';
import { useAction } from '../components.js';
import { useLive } from './context.js';
import type { Availability as Value } from './types.js';

export function AvailabilitySwitch({ api, me }: { api: Api; me: AdminMe }) {
  const ctx = useLive();
  const meId = me.member?.id;
  const fromServer = (me.member as { availability?: Value } | null)?.availability;
  const { busy, run, problem } = useAction();
  // The live presence wins (the stream's, or this switch's own answer): another tab or device may have changed it.
  const live = meId ? ctx?.live.presence.get(meId)?.availability : undefined;
  // Only people who take handoffs have an availability worth showing.
  if (!meId || !ctx || !me.capabilities.includes('handoffs:write')) return null;
  const current = live ?? fromServer ?? 'away';
  const next: Value = current === 'available' ? 'away' : 'available';
  return (
    <button
      type="button"
      class={`secondary availability ${current}`}
      role="switch"
      aria-checked={current === 'available'}
      aria-disabled={busy}
      title={problem ? (problem.detail ?? problem.title) : `You are ${current}. Switch to ${next}.`}
      onClick={() =>
        void run(async () => {
          const { presence } = await api<AvailabilityResponse>('PATCH', '/me/availability', { availability: next });
          ctx.live.setPresence(presence);
        })
      }
    >
      <span class="dot" aria-hidden="true" /> {current === 'available' ? 'Available' : 'Away'}
    </button>
  );
}
