// Bring your own AI provider key. Keys are write-only: the server returns only their last four characters.
// A tenant may require a second admin's approval to set, change or remove one: the request then waits on
// the approval rail (useGated) and runs when the requester finishes it.
import type { Provider, ProviderName } from '@parley/protocol';
import { PROVIDERS } from '@parley/protocol/constants';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useLoad, When } from '../components.js';
import { GatedStatus, useGated } from '../gated.js';

export function ProviderView({ api }: { api: Api }) {
  const list = useLoad(() => api<{ providers: Provider[] }>('GET', '/providers'));
  const [provider, setProvider] = useState<ProviderName>('openai');
  const [apiKey, setApiKey] = useState('');
  const [model, setModel] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  // Setting and removing: one request at a time, either of which may wait for an approval.
  const gated = useGated(api, () => {
    // The key leaves the page as soon as the server has it.
    setApiKey('');
    list.reload();
  });
  const waiting = gated.gate.step === 'waiting' || gated.gate.step === 'approved';
  const save = (e: Event) => {
    e.preventDefault();
    void gated.send('PUT', `/providers/${provider}`, {
      apiKey: apiKey.trim(),
      model: model.trim(),
      ...(provider === 'openai-compatible' && baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}),
    });
  };
  const remove = (p: Provider) => {
    if (!confirm(`Remove the ${p.provider} key? Answers fall back to the built-in extractive answerer.`)) return;
    void gated.send('DELETE', `/providers/${p.provider}`);
  };
  return (
    <div>
      <p>Without a provider, Parley answers with its built-in extractive answerer. Personal data is redacted before any text reaches a provider.</p>
      <ProblemView problem={list.problem} />
      {list.data && !list.data.providers.length ? <p class="muted">No provider is set.</p> : null}
      <ul class="list">
        {list.data?.providers.map((p) => (
          <li key={p.provider}>
            <strong>{p.provider}</strong> · model <code>{p.model}</code> · key ending <code>…{p.last4}</code>
            {p.baseUrl ? (
              <>
                {' '}
                · <code>{p.baseUrl}</code>
              </>
            ) : null}{' '}
            · updated <When iso={p.updatedAt} />{' '}
            <button type="button" class="danger" onClick={() => remove(p)} disabled={gated.busy || waiting} aria-label={`Remove ${p.provider}`}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={save} class="card" autoComplete="off">
        <h2>Set a provider key</h2>
        <label for="provider">Provider</label>
        <select id="provider" value={provider} onChange={(e) => setProvider(e.currentTarget.value as ProviderName)}>
          {PROVIDERS.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <label for="provider-key">API key (write-only)</label>
        <input id="provider-key" type="password" class="mono" required value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} />
        <label for="provider-model">Model</label>
        <input
          id="provider-model"
          required
          value={model}
          onInput={(e) => setModel(e.currentTarget.value)}
          placeholder="gpt-4o-mini, claude-sonnet-4-5, …"
        />
        {provider === 'openai-compatible' ? (
          <>
            <label for="provider-base">Base URL</label>
            <input
              id="provider-base"
              type="url"
              required
              value={baseUrl}
              onInput={(e) => setBaseUrl(e.currentTarget.value)}
              placeholder="https://llm.example.com/v1"
            />
          </>
        ) : null}
        <button type="submit" disabled={gated.busy || waiting || !apiKey.trim() || !model.trim()}>
          Save
        </button>
      </form>
      <GatedStatus gated={gated} />
      <ProblemView problem={gated.problem} />
    </div>
  );
}
