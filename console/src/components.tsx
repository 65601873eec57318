// Pieces every view uses: problem display, a secret shown once, loading state, a file saved, highlighted text,
// a table that scrolls on its own.
import type { Problem } from '@parley/protocol';
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

/**
 * A failed request's problem. Errors at the `inline` paths are shown beside their fields (FieldError) and not
 * repeated here; when every error is one of those, nothing is shown here and the first invalid field in `form`
 * takes the focus, so its label and message are what a screen reader reads.
 */
export function ProblemView({
  problem,
  inline,
  form,
}: {
  problem: Problem | null;
  inline?: readonly string[];
  form?: { current: HTMLFormElement | null };
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
      <strong>{problem.title}</strong>
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

/** Runs an action, keeping its problem (if any) and a busy flag for the form that started it. */
export function useAction() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setProblem(null);
    try {
      await fn();
      return true;
    } catch (err) {
      setProblem(toProblem(err));
      return false;
    } finally {
      setBusy(false);
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
export const When = ({ iso }: { iso: string | null }) =>
  iso ? (
    <time dateTime={iso} dir="auto">
      {formatted(new Date(iso).toLocaleString())}
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
