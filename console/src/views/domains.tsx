// Allowed embedding domains: the widget only starts on pages from these origins.
import type { Domain } from '@parley/protocol';
import { useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { FieldError, fieldError, ProblemView, ScrollingTable, useAction, useLoad, When } from '../components.js';

export function DomainsView({ api }: { api: Api }) {
  const list = useLoad(() => api<{ domains: Domain[] }>('GET', '/domains'));
  const [pattern, setPattern] = useState('');
  const action = useAction();
  const form = useRef<HTMLFormElement>(null);
  const patternError = fieldError(action.problem, '/pattern');
  const add = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      await api('POST', '/domains', { pattern: pattern.trim() });
      setPattern('');
      list.reload();
    });
  };
  const remove = (d: Domain) =>
    void action.run(async () => {
      if (!confirm(`Stop the widget on ${d.pattern}?`)) return;
      await api('DELETE', `/domains/${d.id}`);
      list.reload();
    });
  return (
    <div>
      <p>The widget starts only on pages whose origin matches one of these patterns.</p>
      <ProblemView problem={list.problem} />
      <ScrollingTable label="Allowed domains">
        <thead>
          <tr>
            <th scope="col">Pattern</th>
            <th scope="col">Added</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data?.domains.map((d) => (
            <tr key={d.id}>
              <td>
                <code>{d.pattern}</code>
              </td>
              <td>
                <When iso={d.createdAt} />
              </td>
              <td>
                <button type="button" class="danger" onClick={() => remove(d)} aria-label={`Remove ${d.pattern}`}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </ScrollingTable>
      <form onSubmit={add} class="card" ref={form}>
        <label for="domain-pattern">Add a domain</label>
        <input
          id="domain-pattern"
          placeholder="shop.example.com, *.example.com, localhost:3000"
          required
          maxLength={260}
          value={pattern}
          onInput={(e) => setPattern(e.currentTarget.value)}
          aria-invalid={patternError ? 'true' : undefined}
          aria-describedby={patternError ? 'domain-pattern-error' : undefined}
        />
        <FieldError id="domain-pattern-error" message={patternError} />
        <button type="submit" disabled={!pattern.trim()} aria-disabled={action.busy}>
          Add
        </button>
      </form>
      <ProblemView problem={action.problem} inline={['/pattern']} form={form} />
    </div>
  );
}
