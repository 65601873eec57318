// The settings form: what it shows is what applies (the defaults where the tenant set nothing), so saving
// an untouched form changes no behaviour; the answer and offer thresholds, the search mode, the
// tenant's synonym groups and the built-in vocabulary, each checked as the server checks them.
import { DEFAULT_SETTINGS, SettingsSchema } from '@parley/protocol';
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { button, me, mount, server, settle, type } from '../test/views.js';
import { badSynonymLines, SettingsView } from './settings.js';

const submit = (form: Element) => act(() => void form.dispatchEvent(new Event('submit', { cancelable: true })));
const field = <T extends Element>(el: Element, id: string) => el.querySelector<T>(`#${id}`)!;

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

/** The settings as the server answers them: the tenant's document and what applies, defaults included. */
const answer = (settings: Record<string, unknown>) => ({
  settings,
  effective: { ...DEFAULT_SETTINGS, ...settings, handoff: { ...DEFAULT_SETTINGS.handoff, ...(settings.handoff as object) } },
  policyVersion: 3,
});

describe('settings', () => {
  test('an untouched form saves the thresholds that apply, not numbers of its own', async () => {
    const { api, calls } = server({
      'GET /v1/admin/settings': () => answer({}),
      'PATCH /v1/admin/settings': () => ({ policyVersion: 4 }),
    });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(field<HTMLInputElement>(el, 'threshold').value).toBe(String(DEFAULT_SETTINGS.handoff.threshold)));
    expect(field<HTMLInputElement>(el, 'suggest').value).toBe(String(DEFAULT_SETTINGS.handoff.suggestThreshold));
    expect(field<HTMLSelectElement>(el, 'retrieval-mode').value).toBe('auto');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Settings saved (version 4).'));
    const sent = calls.find((c) => c.key === 'PATCH /v1/admin/settings')!.body;
    expect(sent.handoff).toEqual({
      threshold: DEFAULT_SETTINGS.handoff.threshold,
      suggestThreshold: DEFAULT_SETTINGS.handoff.suggestThreshold,
      sensitiveTopics: [],
    });
    expect(sent.retrieval).toEqual({ mode: 'auto', synonyms: [], supportVocabulary: true });
    // What the form sends is what the server accepts.
    expect(SettingsSchema.safeParse(sent).error?.issues ?? []).toEqual([]);
  });

  test('thresholds, search mode, synonym groups and the built-in vocabulary: a line that is not a group is named and blocks saving', async () => {
    const { api, calls } = server({
      'GET /v1/admin/settings': () =>
        answer({ handoff: { threshold: 0.8, suggestThreshold: 0.5 }, retrieval: { mode: 'bm25', synonyms: ['parcel = package'] } }),
      'PATCH /v1/admin/settings': () => ({ policyVersion: 4 }),
    });
    const el = mount(<SettingsView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(field<HTMLTextAreaElement>(el, 'synonyms').value).toBe('parcel = package'));
    expect(field<HTMLInputElement>(el, 'threshold').value).toBe('0.8');
    expect(field<HTMLSelectElement>(el, 'retrieval-mode').value).toBe('bm25');
    await type(field(el, 'synonyms'), 'parcel = package = order\nrefund\n\nmoney back = refund = reimbursement\n= alone');
    expect(el.querySelector('#synonyms-error')!.textContent).toBe('Lines 2, 5: join two or more words or phrases with “=”.');
    expect(field(el, 'synonyms').getAttribute('aria-invalid')).toBe('true');
    expect(button(el, 'Save settings').disabled).toBe(true);
    await type(field(el, 'synonyms'), 'parcel = package = order\n\nmoney back = refund = reimbursement');
    expect(el.querySelector('#synonyms-error')).toBeNull();
    // An offer threshold at or above the answer threshold means no offers: the form says so.
    await type(field(el, 'suggest'), '0.9');
    expect(el.textContent).toContain('the assistant never offers');
    await type(field(el, 'suggest'), '0.3');
    await type(field(el, 'retrieval-mode'), 'hybrid');
    expect(field<HTMLInputElement>(el, 'support-vocabulary').checked).toBe(true);
    await act(() => field<HTMLInputElement>(el, 'support-vocabulary').click());
    await settle();
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(calls.some((c) => c.key === 'PATCH /v1/admin/settings')).toBe(true));
    const sent = calls.find((c) => c.key === 'PATCH /v1/admin/settings')!.body;
    expect(sent.handoff).toMatchObject({ threshold: 0.8, suggestThreshold: 0.3 });
    expect(sent.retrieval).toEqual({
      mode: 'hybrid',
      synonyms: ['parcel = package = order', 'money back = refund = reimbursement'],
      supportVocabulary: false,
    });
    expect(SettingsSchema.safeParse(sent).error?.issues ?? []).toEqual([]);
  });

  test('the synonym check agrees with the protocol', () => {
    const lines = ['a = b', 'a=b=c', 'a', '= b', 'a =', 'two words = three more words', 'a == b'];
    const schema = SettingsSchema.shape.retrieval.unwrap().shape.synonyms.unwrap().element;
    expect(badSynonymLines(lines.join('\n'))).toEqual(lines.flatMap((l, i) => (schema.safeParse(l).success ? [] : [i + 1])));
  });
});
