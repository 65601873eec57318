// Webhooks: endpoints (the whsec_ secret is shown once, on create and rotate), their delivery log,
// replays and test events. Writing needs webhooks:write; the server enforces it, the view mirrors it.
import type { AdminMe, SubscribableEventType, WebhookDelivery, WebhookEndpoint } from '@parley/protocol';
import { SUBSCRIBABLE_EVENT_TYPES } from '@parley/protocol/constants';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, ScrollingTable, SecretOnce, useAction, useLoad, When } from '../components.js';

const GRACE = [
  { label: 'stop signing with the old secret now', seconds: 0 },
  { label: 'one hour', seconds: 3600 },
  { label: 'one day', seconds: 86400 },
  { label: 'one week', seconds: 7 * 86400 },
];

const base = '/webhooks/endpoints';

function state(e: WebhookEndpoint): ComponentChildren {
  if (!e.enabled) return `disabled${e.disabledReason ? `: ${e.disabledReason}` : ''}`;
  return e.failingSince ? (
    <>
      failing since <When iso={e.failingSince} />
    </>
  ) : (
    'active'
  );
}

function Deliveries({ api, endpoint, canWrite }: { api: Api; endpoint: WebhookEndpoint; canWrite: boolean }) {
  const [status, setStatus] = useState<'' | WebhookDelivery['status']>('');
  const list = useLoad(
    () => api<{ deliveries: WebhookDelivery[] }>('GET', `${base}/${endpoint.id}/deliveries${status ? `?status=${status}` : ''}`),
    [endpoint.id, status],
  );
  const [since, setSince] = useState('');
  const [note, setNote] = useState('');
  const action = useAction();
  const replay = (body: { deliveryId: string } | { since: string }) =>
    void action.run(async () => {
      const out = await api<{ replayed: number }>('POST', `${base}/${endpoint.id}/replay`, body);
      setNote(out.replayed === 1 ? 'One delivery queued again.' : `${out.replayed} deliveries queued again.`);
      list.reload();
    });

  return (
    <section class="card" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries to {endpoint.url}</h2>
      <div class="row">
        <label for="delivery-status">Show</label>
        <select id="delivery-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as typeof status)}>
          <option value="">all</option>
          <option value="pending">pending (retrying)</option>
          <option value="failed">failed</option>
          <option value="succeeded">succeeded</option>
        </select>
        <button type="button" class="secondary" onClick={() => list.reload()}>
          Refresh
        </button>
      </div>
      <ProblemView problem={list.problem} />
      <ScrollingTable label="Deliveries">
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Answer</th>
            <th scope="col">Latency</th>
            <th scope="col">Next attempt</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data?.deliveries.map((d) => (
            <tr key={d.id}>
              <td>
                <code>{d.eventType}</code>
                <div class="muted mono">{d.eventId}</div>
              </td>
              <td>{d.status}</td>
              <td>{d.attempts}</td>
              <td>{d.responseCode ?? (d.error ? <span title={d.error}>no answer</span> : '—')}</td>
              <td>{d.latencyMs === null ? '—' : `${d.latencyMs} ms`}</td>
              <td>
                <When iso={d.nextAttemptAt} />
              </td>
              <td>
                <When iso={d.createdAt} />
              </td>
              <td class="actions">
                {/* Finished: replay it. Waiting for its next retry: send it now (an endpoint just mended). */}
                {canWrite && (d.status !== 'pending' || d.nextAttemptAt) ? (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => replay({ deliveryId: d.id })}
                    aria-label={d.status === 'pending' ? `Send ${d.eventType} ${d.eventId} now` : `Replay ${d.eventType} ${d.eventId}`}
                  >
                    {d.status === 'pending' ? 'Send now' : 'Replay'}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </ScrollingTable>
      {list.data && !list.data.deliveries.length ? <p class="muted">No deliveries yet.</p> : null}
      {canWrite ? (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (since) replay({ since: new Date(since).toISOString() });
          }}
        >
          <label for="replay-since">Replay every failed delivery since</label>
          <input id="replay-since" type="datetime-local" required value={since} onInput={(e) => setSince(e.currentTarget.value)} />
          <button type="submit" disabled={!since} aria-disabled={action.busy}>
            Replay failed
          </button>
        </form>
      ) : null}
      <p class="muted" aria-live="polite">
        {note}
      </p>
      <ProblemView problem={action.problem} />
    </section>
  );
}

export function WebhooksView({ api, me }: { api: Api; me: AdminMe }) {
  const canWrite = me.capabilities.includes('webhooks:write');
  const list = useLoad(() => api<{ endpoints: WebhookEndpoint[] }>('GET', base));
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<Set<SubscribableEventType>>(new Set(['handoff.requested']));
  const [grace, setGrace] = useState(86400);
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const action = useAction();

  const toggle = (t: SubscribableEventType) => {
    const next = new Set(events);
    if (next.has(t)) next.delete(t);
    else next.add(t);
    setEvents(next);
  };
  const create = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const body = { url: url.trim(), events: [...events], ...(description.trim() ? { description: description.trim() } : {}) };
      const out = await api<{ endpoint: WebhookEndpoint; secret: string }>('POST', base, body);
      setSecret({ label: `Signing secret of ${out.endpoint.url}`, value: out.secret });
      setUrl('');
      setDescription('');
      list.reload();
    });
  };
  const rotate = (ep: WebhookEndpoint) =>
    void action.run(async () => {
      const out = await api<{ endpoint: WebhookEndpoint; secret: string }>('POST', `${base}/${ep.id}/rotate`, { graceSeconds: grace });
      setSecret({ label: `New signing secret of ${ep.url}`, value: out.secret });
      list.reload();
    });
  const test = (ep: WebhookEndpoint) =>
    void action.run(async () => {
      await api('POST', `${base}/${ep.id}/test`);
      setNote(`A test event is on its way to ${ep.url}.`);
      setOpen(ep.id);
    });
  const setEnabled = (ep: WebhookEndpoint, enabled: boolean) =>
    void action.run(async () => {
      await api('PATCH', `${base}/${ep.id}`, { enabled });
      list.reload();
    });
  const remove = (ep: WebhookEndpoint) =>
    void action.run(async () => {
      if (!confirm(`Delete the endpoint ${ep.url} and its delivery log?`)) return;
      await api('DELETE', `${base}/${ep.id}`);
      if (open === ep.id) setOpen(null);
      list.reload();
    });
  const opened = list.data?.endpoints.find((e) => e.id === open) ?? null;

  return (
    <div>
      {secret ? <SecretOnce label={secret.label} secret={secret.value} onDone={() => setSecret(null)} /> : null}
      <p class="muted">
        Parley POSTs signed events to these URLs (Standard Webhooks). Verify them with <code>verifyWebhook</code> from <code>@parley/node</code> and
        deduplicate on <code>webhook-id</code>: failed deliveries are retried for about three days. <a href="/docs/webhooks.html">Webhooks guide</a>
      </p>
      <ProblemView problem={list.problem} />
      {canWrite ? (
        <div class="row">
          <label for="webhook-grace">When rotating a secret, keep signing with the old one for</label>
          <select id="webhook-grace" value={String(grace)} onChange={(e) => setGrace(Number(e.currentTarget.value))}>
            {GRACE.map((g) => (
              <option key={g.seconds} value={String(g.seconds)}>
                {g.label}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <ScrollingTable label="Webhook endpoints">
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col">Events</th>
            <th scope="col">State</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data?.endpoints.map((ep) => (
            <tr key={ep.id}>
              <td class="endpoint-url">
                <code>{ep.url}</code>
                {ep.description ? <div class="muted">{ep.description}</div> : null}
              </td>
              <td class="caps">{ep.events.join(', ')}</td>
              <td>
                {state(ep)}
                {ep.previousSecretExpiresAt ? (
                  <div class="muted">
                    old secret signs until <When iso={ep.previousSecretExpiresAt} />
                  </div>
                ) : null}
              </td>
              <td class="actions">
                <button
                  type="button"
                  class="secondary"
                  onClick={() => setOpen(open === ep.id ? null : ep.id)}
                  aria-label={`Deliveries to ${ep.url}`}
                  aria-pressed={open === ep.id}
                >
                  Deliveries
                </button>
                {canWrite ? (
                  <>
                    {ep.enabled ? (
                      <button type="button" class="secondary" onClick={() => test(ep)} aria-label={`Send test event to ${ep.url}`}>
                        Send test
                      </button>
                    ) : null}
                    <button type="button" class="secondary" onClick={() => rotate(ep)} aria-label={`Rotate secret of ${ep.url}`}>
                      Rotate secret
                    </button>
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => setEnabled(ep, !ep.enabled)}
                      aria-label={`${ep.enabled ? 'Disable' : 'Enable'} ${ep.url}`}
                    >
                      {ep.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <button type="button" class="danger" onClick={() => remove(ep)} aria-label={`Delete ${ep.url}`}>
                      Delete
                    </button>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </ScrollingTable>
      {list.data && !list.data.endpoints.length ? <p class="muted">No endpoints yet.</p> : null}
      <p class="muted" aria-live="polite">
        {note}
      </p>
      <ProblemView problem={action.problem} />
      {opened ? <Deliveries api={api} endpoint={opened} canWrite={canWrite} key={opened.id} /> : null}
      {canWrite ? (
        <form onSubmit={create} class="card">
          <h2>Add an endpoint</h2>
          <label for="webhook-url">URL (https and a public host; plain http and localhost in development only)</label>
          <input
            id="webhook-url"
            type="url"
            required
            maxLength={2000}
            placeholder="https://api.example.com/parley/webhooks"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          <label for="webhook-description">Description (optional)</label>
          <input id="webhook-description" maxLength={200} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          <fieldset>
            <legend>Events</legend>
            <div class="caps-grid">
              {SUBSCRIBABLE_EVENT_TYPES.map((t) => (
                <label key={t} class="check">
                  <input type="checkbox" checked={events.has(t)} onChange={() => toggle(t)} /> <code>{t}</code>
                </label>
              ))}
            </div>
          </fieldset>
          <button type="submit" disabled={!url.trim() || !events.size} aria-disabled={action.busy}>
            Add endpoint
          </button>
        </form>
      ) : null}
    </div>
  );
}
