// Pieces every view uses: problem display, a secret shown once, loading state, a file saved, highlighted text,
// a table that scrolls on its own.
import type { Problem, ProblemSlug } from '@parley/protocol';
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { toProblem } from './api.js';
import { formatted } from './bidi.js';

const typingIn = (el: Element | null) =>
  el instanceof HTMLTextAreaElement ||
  el instanceof HTMLSelectElement ||
  (el instanceof HTMLInputElement && !['button', 'submit', 'reset', 'checkbox', 'radio'].includes(el.type)) ||
  (el instanceof HTMLElement && el.isContentEditable);

/** The message of a problem's error at `path` (a field of the form that sent it), if any. */
export const fieldError = (problem: Problem | null, path: string): string | null => problem?.errors?.find((e) => e.path === path)?.message ?? null;

/** A field's error under it: give the field `aria-invalid` and `aria-describedby={id}` while `message` is set. */
export function FieldError({ id, message }: { id: string; message: string | null }) {
  return message ? (
    <p id={id} class="field-error">
      {message}
    </p>
  ) : null;
}

/** Headings a person reads for the problem types the console meets; the API's titles name the protocol's
 * terms ("Conflict", "Missing capability"). Any other keeps its title. */
const HEADINGS: Partial<Record<ProblemSlug, string>> = {
  'malformed-json': 'The request could not be read',
  'malformed-request': 'The request could not be read',
  'validation-failed': 'Check what you entered',
  'payload-too-large': 'That is too large to send',
  'request-timeout': 'That took too long',
  'not-found': 'We couldn’t find that',
  unauthenticated: 'Please sign in again',
  'missing-capability': 'You don’t have permission to do this',
  forbidden: 'That isn’t allowed',
  conflict: 'That change wasn’t made',
  'rate-limited': 'Too many attempts: wait a moment and try again',
  'quota-exceeded': 'Your plan’s limit is reached',
  'token-invalid': 'That link or code isn’t valid',
  'token-expired': 'That link or code has expired',
  'token-replayed': 'That link or code was already used',
  'sso-required': 'Sign in with your organisation’s single sign-on',
  'mail-not-sent': 'The email could not be sent',
  'service-unavailable': 'The service is unavailable right now',
  internal: 'Something went wrong on our side',
};

/** The heading of a problem: `headings` first (what a view knows, as sign-in knows a 401 is a failed sign-in). */
export const problemHeading = (problem: Problem, headings?: Partial<Record<ProblemSlug, string>>): string => {
  const slug = /^\/docs\/problems\/([a-z-]+)$/.exec(problem.type ?? '')?.[1] as ProblemSlug | undefined;
  return (slug && (headings?.[slug] ?? HEADINGS[slug])) || problem.title;
};

/**
 * A failed request's problem, headed in plain words (the detail and request id as the server gave them). Errors at the `inline` paths are shown beside their fields (FieldError) and not
 * repeated here; when every error is one of those, nothing is shown here and the first invalid field in `form`
 * takes the focus, so its label and message are what a screen reader reads.
 */
export function ProblemView({
  problem,
  inline,
  form,
  headings,
}: {
  problem: Problem | null;
  inline?: readonly string[];
  form?: { current: HTMLFormElement | null };
  headings?: Partial<Record<ProblemSlug, string>>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const errors = problem?.errors?.filter((e) => !inline?.includes(e.path)) ?? [];
  const allInline = !!problem?.errors?.length && !errors.length;
  // Move focus to the error so keyboard and screen-reader users learn what failed: as it renders, before the
  // browser paints it, so that no one can have clicked into a field and started typing there first. Only
  // from the page or a button (the one that sent the request): someone who went on typing in a field while
  // the request was in flight keeps the field, and hears the error as an alert.
  useLayoutEffect(() => {
    if (!problem || typingIn(document.activeElement)) return;
    if (allInline) form?.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
    else ref.current?.focus();
  }, [problem]);
  if (!problem || allInline) return null;
  return (
    <div class="problem" role="alert" tabIndex={-1} ref={ref}>
      <strong>{problemHeading(problem, headings)}</strong>
      {problem.detail ? <p>{problem.detail}</p> : null}
      {errors.length ? (
        <ul>
          {errors.map((e) => (
            <li key={e.path}>
              <code>{e.path || '/'}</code> {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {problem.request_id ? (
        <p class="muted">
          Request id <code>{problem.request_id}</code>
        </p>
      ) : null}
    </div>
  );
}

/** "1 passage", "3 passages": a count with its noun in the right number. */
export const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Where focus goes once an action is done, if the control that started it is gone or disabled by then. */
export interface RunOptions {
  focus?: () => HTMLElement | null | undefined;
}

/** Whether the focus has left every control: on the page itself, as when the focused element was removed,
 * or on a control that is disabled now (which browsers leave, and which takes no keys). */
export const focusLost = () => {
  const el = document.activeElement;
  return !el || el === document.body || el.matches(':disabled');
};

/**
 * Runs an action, keeping its problem (if any) and a busy flag for the form that started it. While it runs,
 * a second start is ignored, so a button need not be `disabled` while busy (the browser drops the focus of
 * a disabled button to the page): give it `aria-disabled={busy}` and it keeps the focus. When the action is
 * done and its control is gone or disabled by then (a Take button once taken, a Send button once the box is
 * empty), the focus goes where `focus` says, or else back to the control if it is still usable.
 */
export function useAction() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  const run = useCallback(async (fn: () => Promise<unknown>, options?: RunOptions): Promise<boolean> => {
    if (running.current) return false;
    running.current = true;
    const from = document.activeElement;
    setBusy(true);
    setProblem(null);
    let ok = false;
    try {
      await fn();
      ok = true;
      return true;
    } catch (err) {
      setProblem(toProblem(err));
      return false;
    } finally {
      running.current = false;
      setBusy(false);
      // After the views have rendered what the action changed (an error takes the focus itself).
      if (from instanceof HTMLElement && from !== document.body)
        setTimeout(() => {
          if (!focusLost()) return;
          const target = (ok ? options?.focus?.() : null) ?? (from.isConnected && !from.matches(':disabled') ? from : null);
          target?.focus();
        }, 0);
    }
  }, []);
  return { problem, busy, run, setProblem };
}

/** Loads data for a view; `reload` fetches it again after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setProblem(null);
    load().then(
      (d) => live && setData(d),
      (err) => live && setProblem(toProblem(err)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [n, ...deps]);
  return { data, problem, reload: () => setN((x) => x + 1) };
}

/** A secret the server returns exactly once: shown with a copy button and a plain warning. */
export function SecretOnce({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <section class="secret" aria-labelledby="secret-once-title">
      <h3 id="secret-once-title">{label}</h3>
      <p>This is the only time it is shown. Copy it now and store it somewhere safe.</p>
      <div class="row">
        <input class="mono" readOnly value={secret} aria-label={label} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          Done
        </button>
      </div>
      <p class="muted" aria-live="polite">
        {copied ? 'Copied to the clipboard.' : ''}
      </p>
    </section>
  );
}

/** Saves a blob as a file through a temporary link: the browser's own download, no new window. */
export function saveFile(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // After the click has handed the file to the browser.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Text with the given [start, end) spans wrapped in <mark>; spans must not overlap. */
export function Highlighted({ text, spans }: { text: string; spans: { start: number; end: number; label: string }[] }) {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start < at) continue;
    if (s.start > at) out.push(text.slice(at, s.start));
    out.push(
      // Isolated, so a span of one direction reads right inside text of the other ("18 Mill Lane" in Arabic).
      <mark key={s.start} title={s.label} dir="auto">
        {text.slice(s.start, s.end)}
        <span class="tag" dir="ltr">
          {s.label}
        </span>
      </mark>,
    );
    at = s.end;
  }
  if (at < text.length) out.push(text.slice(at));
  return <span class="highlighted">{out}</span>;
}

/** A date and time in the viewer's language, isolated from the text around it and in the direction of its
 * own format: left-to-right for "12/5/2026, 5:55 PM", right-to-left for Arabic's, whose first strong
 * character is a right-to-left mark. */
export const When = ({ iso, short }: { iso: string | null /** Day and minute only, for a narrow column. */; short?: boolean }) =>
  iso ? (
    <time dateTime={iso} dir="auto">
      {formatted(new Date(iso).toLocaleString(undefined, short ? { dateStyle: 'short', timeStyle: 'short' } : undefined))}
    </time>
  ) : (
    <>—</>
  );

/** A table that scrolls sideways in a region of its own on a narrow screen, never the page (WCAG 1.4.10).
 * The region is named and focusable, so it can be scrolled from the keyboard; the label is also the
 * table's caption for screen readers. */
export function ScrollingTable({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll" role="region" aria-label={label} tabIndex={0}>
      <table>
        <caption class="sr-only">{label}</caption>
        {children}
      </table>
    </div>
  );
}
