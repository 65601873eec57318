// Deleting the workspace (owners only, after typing its name; any owner can cancel) and evidence packs for
// auditors (built and saved as a zip, kept versions downloaded). The server is a stand-in answering what the
// real one answers.
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { json, server, mount, type, button, me } from '../test/views.js';
import { EvidenceView } from './evidence.js';
import { SettingsView } from './settings.js';

const SETTINGS = { 'GET /v1/admin/settings': () => ({ settings: {}, policyVersion: 1 }) };

const submit = (form: Element) => act(() => void form.dispatchEvent(new Event('submit', { cancelable: true })));

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

describe('deleting the workspace', () => {
  test('an owner schedules it with a grace period only after typing the name, sees when it is due, and cancels it', async () => {
    let state: Record<string, unknown> = { state: 'none', requestedAt: null, dueAt: null };
    const { api, calls } = server({
      ...SETTINGS,
      'GET /v1/admin/tenant/deletion': () => state,
      'POST /v1/admin/tenant/deletion': () => {
        state = { state: 'scheduled', requestedAt: '2027-01-15T08:00:00.000Z', dueAt: '2027-01-29T08:00:00.000Z' };
        return json(state, 201);
      },
      'DELETE /v1/admin/tenant/deletion': () => {
        state = { state: 'none', requestedAt: null, dueAt: null };
        return null;
      },
    });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#deletion-confirm')).not.toBeNull());
    expect(el.querySelector('.danger-zone h2')?.textContent).toBe('Delete workspace');
    expect(el.querySelector<HTMLInputElement>('#deletion-grace')!.value).toBe('7');
    const schedule = button(el, 'Schedule deletion');
    expect(schedule.disabled).toBe(true);
    await type(el.querySelector<HTMLInputElement>('#deletion-confirm')!, 'acme support');
    expect(schedule.disabled).toBe(true);
    await type(el.querySelector<HTMLInputElement>('#deletion-confirm')!, 'Acme Support');
    expect(schedule.disabled).toBe(false);
    await type(el.querySelector<HTMLInputElement>('#deletion-grace')!, '14');
    await submit(schedule.form!);
    await vi.waitFor(() => expect(el.textContent).toContain('Deletion scheduled for'));
    expect(calls.find((c) => c.key === 'POST /v1/admin/tenant/deletion')!.body).toEqual({ graceDays: 14 });
    expect(el.querySelector('time')?.getAttribute('datetime')).toBe('2027-01-29T08:00:00.000Z');
    expect(document.activeElement?.id).toBe('delete-workspace-title');
    await act(() => button(el, 'Cancel deletion').click());
    await vi.waitFor(() => expect(el.querySelector('#deletion-confirm')).not.toBeNull());
    expect(calls.map((c) => c.key)).toContain('DELETE /v1/admin/tenant/deletion');
    // The typed name does not linger for a second deletion.
    expect(el.querySelector<HTMLInputElement>('#deletion-confirm')!.value).toBe('');
  });

  test('a refusal is shown with the problem’s detail', async () => {
    const { api } = server({
      ...SETTINGS,
      'GET /v1/admin/tenant/deletion': () => ({ state: 'none', requestedAt: null, dueAt: null }),
      'POST /v1/admin/tenant/deletion': () =>
        json({ type: '/docs/problems/conflict', title: 'Conflict', status: 409, detail: 'The deletion of this tenant is already scheduled.' }, 409),
    });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#deletion-confirm')).not.toBeNull());
    await type(el.querySelector<HTMLInputElement>('#deletion-confirm')!, 'Acme Support');
    await submit(button(el, 'Schedule deletion').form!);
    await vi.waitFor(() => expect(el.querySelector('.danger-zone [role=alert]')?.textContent).toContain('already scheduled'));
  });

  test('an admin does not see it, and the console does not ask', async () => {
    const { api, calls } = server({ ...SETTINGS });
    const el = mount(<SettingsView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('#accent')?.value).toBe('#2f6feb'));
    expect(el.textContent).not.toContain('Delete workspace');
    expect(calls.map((c) => c.key)).toEqual(['GET /v1/admin/settings']);
  });
});

describe('evidence for auditors', () => {
  const PACK = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
  const zip = () => new Response(PACK, { status: 200, headers: { 'Content-Type': 'application/zip' } });

  test('builds a pack for the chosen framework and the last 90 days by default, and saves the zip the server sent', async () => {
    const saved: { name: string; bytes: Uint8Array }[] = [];
    const blobs = new Map<string, Blob>();
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      const url = `blob:test/${blobs.size}`;
      blobs.set(url, b as Blob);
      return url;
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      const blob = blobs.get(this.href)!;
      void blob.arrayBuffer().then((b) => saved.push({ name: this.download, bytes: new Uint8Array(b) }));
    });
    const { api, calls } = server({
      'GET /v1/admin/evidence/packs': () => ({
        packs: [
          {
            version: 2,
            framework: 'soc2',
            manifestSha256: 'a'.repeat(64),
            createdAt: '2027-01-15T08:00:00.000Z',
            supersededAt: null,
          },
        ],
      }),
      'GET /v1/admin/evidence/subscription': () => ({ subscription: null }),
      'POST /v1/admin/evidence/packs': zip,
      'GET /v1/admin/evidence/packs/2': zip,
    });
    const el = mount(<EvidenceView api={api} me={me('admin')} />);
    const from = el.querySelector<HTMLInputElement>('#evidence-from')!.value;
    const to = el.querySelector<HTMLInputElement>('#evidence-to')!.value;
    expect((Date.parse(to) - Date.parse(from)) / 86_400_000).toBe(90);
    expect(el.textContent).toContain('npx parley evidence verify pack.zip');
    await type(el.querySelector<HTMLSelectElement>('#evidence-framework')!, 'eu-ai-act');
    await submit(el.querySelector('#evidence-framework')!.closest('form')!);
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(calls.find((c) => c.key === 'POST /v1/admin/evidence/packs')!.body).toEqual({
      framework: 'eu-ai-act',
      from: `${from}T00:00:00.000Z`,
      to: `${to}T23:59:59.999Z`,
    });
    expect(saved[0]).toEqual({ name: `evidence-eu-ai-act-${from}-${to}.zip`, bytes: PACK });
    await vi.waitFor(() => expect(el.textContent).toContain(`Saved evidence-eu-ai-act-${from}-${to}.zip.`));
    await vi.waitFor(() => expect(el.textContent).toContain('Download v2'));
    await act(() => button(el, 'Download v2').click());
    await vi.waitFor(() => expect(saved).toHaveLength(2));
    expect(saved[1]).toEqual({ name: 'evidence-v2.zip', bytes: PACK });
  });

  test('a refused period is shown with the problem’s detail; nothing is saved', async () => {
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click');
    const { api } = server({
      'GET /v1/admin/evidence/packs': () => ({ packs: [] }),
      'GET /v1/admin/evidence/subscription': () => ({ subscription: null }),
      'POST /v1/admin/evidence/packs': () =>
        json(
          {
            type: '/docs/problems/invalid-input',
            title: 'Invalid input',
            status: 400,
            detail: 'The period holds more than 100000 audit entries; ask for a shorter one.',
          },
          400,
          'application/problem+json',
        ),
    });
    const el = mount(<EvidenceView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(el.textContent).toContain('None yet'));
    await submit(el.querySelector('#evidence-framework')!.closest('form')!);
    await vi.waitFor(() => expect(el.querySelector('[role=alert]')?.textContent).toContain('ask for a shorter one'));
    expect(click).not.toHaveBeenCalled();
  });

  test('a pack kept current: subscribe with a framework and a period, see it, stop it', async () => {
    let subscription: Record<string, unknown> | null = null;
    const { api, calls } = server({
      'GET /v1/admin/evidence/packs': () => ({ packs: [] }),
      'GET /v1/admin/evidence/subscription': () => ({ subscription }),
      'PUT /v1/admin/evidence/subscription': (body) => {
        subscription = { ...body, updatedAt: '2027-01-15T08:00:00.000Z' };
        return { subscription };
      },
      'DELETE /v1/admin/evidence/subscription': () => {
        subscription = null;
        return null;
      },
    });
    const el = mount(<EvidenceView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('#subscription-days')).not.toBeNull());
    await type(el.querySelector<HTMLSelectElement>('#subscription-framework')!, 'iso-42001');
    await type(el.querySelector<HTMLInputElement>('#subscription-days')!, '30');
    await submit(el.querySelector('#subscription-days')!.closest('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Kept current: ISO/IEC 42001, the last 30 days'));
    expect(calls.find((c) => c.key === 'PUT /v1/admin/evidence/subscription')!.body).toEqual({ framework: 'iso-42001', periodDays: 30 });
    await act(() => button(el, 'Stop keeping it current').click());
    await vi.waitFor(() => expect(el.querySelector('#subscription-days')).not.toBeNull());
    expect(calls.map((c) => c.key)).toContain('DELETE /v1/admin/evidence/subscription');
  });
});
