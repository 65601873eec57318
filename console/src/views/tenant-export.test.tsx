// Exporting the workspace from the settings: owners and admins see it (tenant:export), the zip is saved
// under the server's file name, restricted values need an owner and a reason checked before sending, the
// server's refusals read as its problem's detail, and a tenant that gates restricted exports behind a second
// admin's approval is waited on and finished. The server is a stand-in answering what the real one answers.
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { json, server, mount, type, button, me, problem, settle } from '../test/views.js';
import { SettingsView } from './settings.js';

const ROUTES = {
  'GET /v1/admin/settings': () => ({ settings: {}, policyVersion: 1 }),
  'GET /v1/admin/tenant/deletion': () => ({ state: 'none', requestedAt: null, dueAt: null }),
};
// An empty zip (its end-of-central-directory record), 22 bytes.
const ZIP = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
const zip = (disposition?: string) =>
  new Response(ZIP, { status: 200, headers: { 'Content-Type': 'application/zip', ...(disposition ? { 'Content-Disposition': disposition } : {}) } });
const PROPOSAL_ID = '55555555-5555-4555-8555-555555555555';
const proposal = (status: string) => ({
  id: PROPOSAL_ID,
  kind: 'admin',
  operation: 'export.restricted',
  action: null,
  status,
  expiresAt: '2027-01-16T08:00:00.000Z',
  arguments: { includeRestricted: true, reason: 'Moving to our own archive, OPS-42' },
  decisions: [],
});

const submit = (form: Element) => act(() => void form.dispatchEvent(new Event('submit', { cancelable: true })));
const exportForm = (el: Element) => el.querySelector('#export-workspace-title')!.closest('section')!.querySelector('form')!;

/** What the page saved through its download link: name and bytes. */
let saved: { name: string; bytes: Uint8Array }[];
beforeEach(() => {
  saved = [];
  const blobs = new Map<string, Blob>();
  vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
    const url = `blob:test/${blobs.size}`;
    blobs.set(url, b as Blob);
    return url;
  });
  vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    void blobs
      .get(this.href)!
      .arrayBuffer()
      .then((b) => saved.push({ name: this.download, bytes: new Uint8Array(b) }));
  });
});
afterEach(() => {
  document.body.innerHTML = '';
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('exporting the workspace', () => {
  test('an admin exports without restricted values and saves the zip under the name the server gave, with its size', async () => {
    const { api, calls } = server({ ...ROUTES, 'POST /v1/admin/tenant/export': () => zip('attachment; filename="tenant-export-0123456789ab.zip"') });
    const el = mount(<SettingsView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('#export-workspace-title')).not.toBeNull());
    // Restricted values are an owner's to include: an admin is not offered them.
    expect(el.textContent).not.toContain('Include restricted data');
    expect(el.textContent).toContain('only an owner can include them');
    await submit(exportForm(el));
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]).toEqual({ name: 'tenant-export-0123456789ab.zip', bytes: ZIP });
    expect(calls.find((c) => c.key === 'POST /v1/admin/tenant/export')!.body).toEqual({});
    await vi.waitFor(() => expect(el.textContent).toContain('Saved tenant-export-0123456789ab.zip (22 byte'));
    expect(el.textContent).toContain('Restricted values are left out.');
  });

  test('without a file name from the server, the zip is saved as parley-export-<date>.zip', async () => {
    const { api } = server({ ...ROUTES, 'POST /v1/admin/tenant/export': () => zip() });
    const el = mount(<SettingsView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('#export-workspace-title')).not.toBeNull());
    await submit(exportForm(el));
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]!.name).toBe(`parley-export-${new Date().toISOString().slice(0, 10)}.zip`);
  });

  test('an owner includes restricted data only with a reason of ten characters or more, checked before anything is sent', async () => {
    const { api, calls } = server({ ...ROUTES, 'POST /v1/admin/tenant/export': () => zip('attachment; filename="tenant-export-ffffffffffff.zip"') });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#export-workspace-title')).not.toBeNull());
    const box = [...el.querySelectorAll('label.check')].find((l) => l.textContent?.includes('Include restricted data'))!.querySelector('input')!;
    await act(() => box.click());
    const reason = el.querySelector<HTMLTextAreaElement>('#export-reason')!;
    expect(reason.required).toBe(true);
    await submit(exportForm(el));
    expect(el.querySelector('#export-reason-error')!.textContent).toContain('at least 10 characters');
    expect(reason.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(reason);
    await type(reason, '   short   ');
    await submit(exportForm(el));
    expect(el.querySelector('#export-reason-error')).not.toBeNull();
    expect(calls.some((c) => c.key === 'POST /v1/admin/tenant/export')).toBe(false);
    await type(reason, '  Moving to our own archive, OPS-42 ');
    await submit(exportForm(el));
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(el.querySelector('#export-reason-error')).toBeNull();
    expect(calls.find((c) => c.key === 'POST /v1/admin/tenant/export')!.body).toEqual({
      includeRestricted: true,
      reason: 'Moving to our own archive, OPS-42',
    });
    await vi.waitFor(() => expect(el.textContent).toContain('Restricted values are included.'));
  });

  test("the server's refusals show their problem's detail (403 for a restricted export without the owner role, 400 naming the reason)", async () => {
    let answer = problem(403, 'Forbidden', 'Only an owner, signed in, can include restricted values in an export.');
    const { api } = server({ ...ROUTES, 'POST /v1/admin/tenant/export': () => answer });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#export-workspace-title')).not.toBeNull());
    await act(() => exportForm(el).querySelector<HTMLInputElement>('label.check input')!.click());
    await type(el.querySelector<HTMLTextAreaElement>('#export-reason')!, 'Moving to our own archive, OPS-42');
    await submit(exportForm(el));
    const alert = () => el.querySelector('#export-workspace-title')!.closest('section')!.querySelector('[role=alert]');
    await vi.waitFor(() => expect(alert()?.textContent).toContain('Only an owner, signed in, can include restricted values in an export.'));
    expect(alert()!.textContent).toContain('req-7');
    answer = problem(400, 'Invalid input', 'A reason is required to include restricted values.', [
      { path: '/reason', message: 'a reason is required to include restricted values', code: 'custom' },
    ]);
    await submit(exportForm(el));
    await vi.waitFor(() => expect(alert()?.textContent).toContain('A reason is required to include restricted values.'));
    expect(alert()!.querySelector('code')!.textContent).toBe('/reason');
    expect(saved).toHaveLength(0);
  });

  test('agents do not see it', async () => {
    const { api } = server(ROUTES);
    const el = mount(<SettingsView api={api} me={me('agent')} />);
    await settle();
    expect(el.querySelector('#export-workspace-title')).toBeNull();
  });

  test('a gated restricted export waits for another admin, then Finish sends the same request with Parley-Approval and saves the zip', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let status = 'pending';
    const { api, calls } = server({
      ...ROUTES,
      'POST /v1/admin/tenant/export': (_body, headers) =>
        headers.get('Parley-Approval') === PROPOSAL_ID
          ? zip('attachment; filename="tenant-export-abcdefabcdef.zip"')
          : json({ proposal: proposal('pending') }, 202),
      [`GET /v1/admin/approvals/${PROPOSAL_ID}`]: () => ({ proposal: proposal(status) }),
    });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#export-workspace-title')).not.toBeNull());
    await act(() => exportForm(el).querySelector<HTMLInputElement>('label.check input')!.click());
    await type(el.querySelector<HTMLTextAreaElement>('#export-reason')!, 'Moving to our own archive, OPS-42');
    await submit(exportForm(el));
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(el.textContent).toContain('Export restricted data');
    expect(el.querySelector('.gated code')!.textContent).toBe(PROPOSAL_ID);
    expect(el.querySelector('.gated time')!.getAttribute('datetime')).toBe('2027-01-16T08:00:00.000Z');
    expect(button(el, 'Export and download').disabled).toBe(true);
    expect(saved).toHaveLength(0);
    status = 'approved';
    await act(() => void vi.advanceTimersByTime(5_000));
    await vi.waitFor(() => expect(el.textContent).toContain('Approved by another admin'));
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]!.name).toBe('tenant-export-abcdefabcdef.zip');
    const posts = calls.filter((c) => c.key === 'POST /v1/admin/tenant/export');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toEqual(posts[0]!.body);
    expect(posts[0]!.headers.get('Parley-Approval')).toBeNull();
    expect(posts[1]!.headers.get('Parley-Approval')).toBe(PROPOSAL_ID);
    await vi.waitFor(() => expect(el.textContent).toContain('Restricted values are included.'));
    expect(el.querySelector('.gated')).toBeNull();
  });
});
