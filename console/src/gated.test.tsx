// The approval rail as any console view meets it: a gated admin request answered 202 with a proposal waits
// for another admin (polled every 5 seconds, only while shown), an approved one is finished by repeating the
// same request with `Parley-Approval`, a rejected or expired one says so and runs nothing, and a view that
// does not wait reads the 202 as a problem. The server is a stand-in answering the rail's contract.
import { act } from 'preact/test-utils';
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Api } from './api.js';
import { ProblemView, useLoad } from './components.js';
import { GatedStatus, useGated } from './gated.js';
import { button, json, mount, server } from './test/views.js';

const ID = '66666666-6666-4666-8666-666666666666';
const BODY = { name: 'deploy', capabilities: ['keys:write'] };
const proposal = (status: string, decisions: unknown[] = []) => ({
  id: ID,
  kind: 'admin',
  operation: 'keys.privileged',
  action: null,
  status,
  expiresAt: '2027-01-16T08:00:00.000Z',
  arguments: BODY,
  decisions,
});

/** A view creating a key through the rail; shows what it got back. */
function Probe({ api }: { api: Api }) {
  const [made, setMade] = useState<string | null>(null);
  const gated = useGated<{ key: { id: string } }>(api, (out) => setMade(out.key.id));
  return (
    <div>
      <button type="button" onClick={() => void gated.send('POST', '/keys', BODY)}>
        Create
      </button>
      <GatedStatus gated={gated} />
      {made ? <p class="made">Created {made}</p> : null}
      <ProblemView problem={gated.problem} />
    </div>
  );
}

/** A stand-in for the rail: the key route asks for approval unless the approval header names the proposal. */
function rail(status: () => string, decisions: unknown[] = []) {
  return server({
    'POST /v1/admin/keys': (_body, headers) =>
      headers.get('Parley-Approval') === ID
        ? json({ key: { id: 'key_1' }, secret: 'psk_not-shown' }, 201)
        : json({ proposal: proposal('pending') }, 202),
    [`GET /v1/admin/approvals/${ID}`]: () => ({ proposal: proposal(status(), decisions) }),
  });
}
const polls = (calls: { key: string }[]) => calls.filter((c) => c.key === `GET /v1/admin/approvals/${ID}`).length;
const tick = () => act(() => void vi.advanceTimersByTime(5_000));

beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
afterEach(() => {
  document.body.innerHTML = '';
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('gated admin requests', () => {
  test('202 → waiting (id, expiry, operation) → polled every 5 s → approved → Finish repeats the same request with Parley-Approval', async () => {
    let status = 'pending';
    const { api, calls } = rail(() => status);
    const el = mount(<Probe api={api} />);
    await act(() => button(el, 'Create').click());
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(el.textContent).toContain('Create or rotate a key with keys:write, pii:reveal or privacy:*, or make an admin');
    expect(el.querySelector('.gated code')!.textContent).toBe(ID);
    expect(el.querySelector('.gated time')!.getAttribute('datetime')).toBe('2027-01-16T08:00:00.000Z');
    // Waiting is not a failure: no problem is shown.
    expect(el.querySelector('[role=alert]')).toBeNull();
    expect(polls(calls)).toBe(0);
    await tick();
    await vi.waitFor(() => expect(polls(calls)).toBe(1));
    expect(el.textContent).toContain('Waiting for another admin’s approval');
    status = 'approved';
    await tick();
    await vi.waitFor(() => expect(el.textContent).toContain('Approved by another admin'));
    // Approved: no more polling. The poll stops as the effect's cleanup runs, after the paint that shows
    // the answer (a frame later, or more on a busy machine): wait for it, then let the time pass.
    await vi.waitFor(() => expect(vi.getTimerCount()).toBe(0));
    await tick();
    expect(polls(calls)).toBe(2);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(el.querySelector('.made')?.textContent).toBe('Created key_1'));
    const posts = calls.filter((c) => c.key === 'POST /v1/admin/keys');
    expect(posts.map((c) => c.body)).toEqual([BODY, BODY]);
    expect(posts.map((c) => c.headers.get('Parley-Approval'))).toEqual([null, ID]);
    expect(el.querySelector('.gated')).toBeNull();
  });

  test('a rejected proposal says so with the reason given, runs nothing, and offers no Finish', async () => {
    let status = 'pending';
    const { api, calls } = rail(
      () => status,
      [{ by: { kind: 'member', id: 'm2' }, decision: 'reject', at: '2027-01-15T09:00:00.000Z', reason: 'Not this quarter' }],
    );
    const el = mount(<Probe api={api} />);
    await act(() => button(el, 'Create').click());
    await vi.waitFor(() => expect(el.querySelector('.gated-waiting')).not.toBeNull());
    status = 'rejected';
    await tick();
    await vi.waitFor(() => expect(el.textContent).toContain('Another admin rejected it'));
    expect(el.textContent).toContain('Not this quarter');
    expect(() => button(el, 'Finish')).toThrow();
    await vi.waitFor(() => expect(vi.getTimerCount()).toBe(0));
    await tick();
    expect(polls(calls)).toBe(1);
    expect(calls.filter((c) => c.key === 'POST /v1/admin/keys')).toHaveLength(1);
    expect(el.querySelector('.made')).toBeNull();
    await act(() => button(el, 'Dismiss').click());
    expect(el.querySelector('.gated')).toBeNull();
  });

  test('an expired proposal says so', async () => {
    let status = 'pending';
    const { api } = rail(() => status);
    const el = mount(<Probe api={api} />);
    await act(() => button(el, 'Create').click());
    await vi.waitFor(() => expect(el.querySelector('.gated-waiting')).not.toBeNull());
    status = 'expired';
    await tick();
    await vi.waitFor(() => expect(el.textContent).toContain('The approval request expired'));
    expect(() => button(el, 'Finish')).toThrow();
  });

  test('polling stops when the view is gone', async () => {
    const { api, calls } = rail(() => 'pending');
    const el = mount(<Probe api={api} />);
    await act(() => button(el, 'Create').click());
    await vi.waitFor(() => expect(el.querySelector('.gated-waiting')).not.toBeNull());
    await tick();
    await vi.waitFor(() => expect(polls(calls)).toBe(1));
    act(() => render(null, el));
    await tick();
    await tick();
    expect(polls(calls)).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a view that does not wait for approvals reads the 202 as a problem naming the proposal', async () => {
    const { api } = rail(() => 'pending');
    function Plain() {
      const r = useLoad(() => api('POST', '/keys', BODY));
      return <ProblemView problem={r.problem} />;
    }
    const el = mount(<Plain />);
    await vi.waitFor(() =>
      expect(el.querySelector('[role=alert]')?.textContent).toContain(`needs another admin to approve this first (request ${ID})`),
    );
  });
});
