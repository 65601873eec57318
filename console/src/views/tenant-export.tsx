// Exporting the workspace (owners and admins, `tenant:export`): the server builds one signed zip of the
// tenant's data and audit log, and the browser saves it. Restricted values (the PII vault's originals) are
// left out unless an owner includes them with a reason. A tenant may require a second admin's approval
// first: the request then waits on the approval rail (useGated) and is finished once approved.
import type { AdminMe } from '@parley/protocol';
import { useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { formatted } from '../bidi.js';
import { ProblemView, saveFile } from '../components.js';
import { GatedStatus, useGated } from '../gated.js';

/** The server's bounds for the reason (TenantExportRequest). */
const REASON = { min: 10, max: 500 };

/** A file size as a person reads it, in the page's locale. */
export function fileSize(bytes: number): string {
  const [value, unit] = bytes < 1024 ? [bytes, 'byte'] : bytes < 1024 ** 2 ? [bytes / 1024, 'kilobyte'] : [bytes / 1024 ** 2, 'megabyte'];
  return formatted(new Intl.NumberFormat(undefined, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(value));
}

interface Saved {
  name: string;
  size: number;
  restricted: boolean;
}

export function TenantExport({ api, me }: { api: Api; me: AdminMe }) {
  const owner = me.member?.role === 'owner';
  const [restricted, setRestricted] = useState(false);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [saved, setSaved] = useState<Saved | null>(null);
  const reasonField = useRef<HTMLTextAreaElement>(null);
  // What was asked, for the line under the download: the request that finished may be an approved one.
  const asked = useRef(false);
  const gated = useGated<Blob>(api, (zip) => {
    const name = (zip instanceof File && zip.name) || `parley-export-${new Date().toISOString().slice(0, 10)}.zip`;
    saveFile(zip, name);
    setSaved({ name, size: zip.size, restricted: asked.current });
  });
  const waiting = gated.gate.step === 'waiting' || gated.gate.step === 'approved';

  const submit = (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const why = reason.trim();
    if (restricted && why.length < REASON.min) {
      setReasonError(`Give a reason of at least ${REASON.min} characters: it is kept in the audit log.`);
      reasonField.current?.focus();
      return;
    }
    setReasonError(null);
    asked.current = restricted;
    void gated.send('POST', '/tenant/export', restricted ? { includeRestricted: true, reason: why } : {});
  };

  return (
    <section class="card" aria-labelledby="export-workspace-title">
      <h2 id="export-workspace-title">Export workspace</h2>
      <p>
        One signed zip of every conversation, knowledge source, setting and member, and the whole audit log. Secrets (key and password hashes, sealed
        secrets) are never in it. It verifies offline like an evidence pack. <a href="/docs/data-lifecycle.html">Data lifecycle guide</a>
      </p>
      <form onSubmit={submit} noValidate>
        {owner ? (
          <>
            <label class="check">
              <input
                type="checkbox"
                checked={restricted}
                disabled={waiting}
                aria-describedby="export-restricted-help"
                onChange={(e) => {
                  setRestricted(e.currentTarget.checked);
                  setReasonError(null);
                }}
              />{' '}
              Include restricted data
            </label>
            <p class="muted" id="export-restricted-help">
              The original values the PII engine took out of messages (payment data, government ids, special categories). Left out unless you include
              them; messages keep their placeholders.
            </p>
            {restricted ? (
              <>
                <label for="export-reason">Reason (kept in the audit log)</label>
                <textarea
                  id="export-reason"
                  ref={reasonField}
                  required
                  maxLength={REASON.max}
                  disabled={waiting}
                  value={reason}
                  aria-invalid={reasonError ? true : undefined}
                  aria-describedby={reasonError ? 'export-reason-error' : undefined}
                  onInput={(e) => {
                    const value = e.currentTarget.value;
                    setReason(value);
                    // The error goes as soon as the reason would be accepted, not only on the next try.
                    if (value.trim().length >= REASON.min) setReasonError(null);
                  }}
                />
                {reasonError ? (
                  <p class="field-error" id="export-reason-error">
                    {reasonError}
                  </p>
                ) : null}
              </>
            ) : null}
          </>
        ) : (
          <p class="muted">Restricted values are left out: only an owner can include them.</p>
        )}
        <button type="submit" disabled={gated.busy || waiting}>
          {gated.busy && gated.gate.step === 'idle' ? 'Exporting…' : 'Export and download'}
        </button>
      </form>
      <GatedStatus gated={gated} />
      <p aria-live="polite">
        {saved ? (
          <>
            Saved <bdi dir="ltr">{saved.name}</bdi> ({fileSize(saved.size)}).{' '}
            {saved.restricted ? 'Restricted values are included.' : 'Restricted values are left out.'} Its <code>manifest.json</code> lists, table by
            table, the columns included and those left out.
          </>
        ) : null}
      </p>
      <ProblemView problem={gated.problem} />
    </section>
  );
}
