// Knowledge: the sources the assistant answers from, adding Markdown inline, and a retrieval test that
// shows which mode answered (dense and hybrid fall back to BM25 without an embedding model).
import type { EmbeddingSyncResponse, KnowledgeSearchResponse, KnowledgeSource } from '@parley/protocol';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, ScrollingTable, useAction, useLoad, When } from '../components.js';

export function KnowledgeView({ api }: { api: Api }) {
  const list = useLoad(() => api<{ sources: KnowledgeSource[] }>('GET', '/knowledge/sources'));
  const action = useAction();
  const [content, setContent] = useState('');
  const [externalId, setExternalId] = useState('');
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState('auto');
  const [found, setFound] = useState<KnowledgeSearchResponse | null>(null);
  const [sync, setSync] = useState<EmbeddingSyncResponse | null>(null);

  const add = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      await api('POST', '/knowledge/sources', { kind: 'markdown', content, ...(externalId.trim() ? { externalId: externalId.trim() } : {}) });
      setContent('');
      setExternalId('');
      list.reload();
    });
  };
  const remove = (s: KnowledgeSource) =>
    void action.run(async () => {
      if (!confirm(`Delete "${s.title}" and its ${s.chunks} chunks?`)) return;
      await api('DELETE', `/knowledge/sources/${s.id}`);
      list.reload();
    });
  const search = (e: Event) => {
    e.preventDefault();
    void action.run(async () =>
      setFound(await api('POST', '/knowledge/search', { query: query.trim(), limit: 5, ...(mode === 'auto' ? {} : { mode }) })),
    );
  };
  const embed = () => void action.run(async () => setSync(await api<EmbeddingSyncResponse>('POST', '/knowledge/embeddings', {})));

  return (
    <div>
      <ProblemView problem={list.problem} />
      <ScrollingTable label="Knowledge sources">
        <thead>
          <tr>
            <th scope="col">Title</th>
            <th scope="col">Your id</th>
            <th scope="col">Chunks</th>
            <th scope="col">Updated</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data?.sources.map((s) => (
            <tr key={s.id}>
              <td>{s.title}</td>
              <td>{s.externalId ? <code>{s.externalId}</code> : '—'}</td>
              <td>{s.chunks}</td>
              <td>
                <When iso={s.updatedAt} />
              </td>
              <td>
                <button type="button" class="danger" onClick={() => remove(s)} aria-label={`Delete ${s.title}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </ScrollingTable>

      <form onSubmit={add} class="card">
        <label for="knowledge-content">Add Markdown (headings become citable sections)</label>
        <textarea id="knowledge-content" rows={6} required value={content} onInput={(e) => setContent(e.currentTarget.value)} />
        <label for="knowledge-external-id">Your id (posting the same id again replaces the source)</label>
        <input id="knowledge-external-id" maxLength={200} value={externalId} onInput={(e) => setExternalId(e.currentTarget.value)} />
        <button type="submit" disabled={action.busy || !content.trim()}>
          Add
        </button>
      </form>

      <form onSubmit={search} class="card">
        <label for="knowledge-query">Test retrieval</label>
        <input id="knowledge-query" required maxLength={1000} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        <label for="knowledge-mode">Mode</label>
        <select id="knowledge-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
          {['auto', 'bm25', 'dense', 'hybrid'].map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <button type="submit" disabled={action.busy || !query.trim()}>
          Search
        </button>
      </form>
      {found && (
        <section aria-live="polite">
          <p>
            Answered by <strong class="search-mode">{found.mode}</strong>
            {mode !== 'auto' && mode !== found.mode ? ' (no embedding model: BM25 instead)' : ''} · {found.results.length} results
          </p>
          <ol class="results">
            {found.results.map((r) => (
              <li key={r.chunkId}>
                {r.url ? (
                  <a href={r.url} target="_blank" rel="noopener noreferrer">
                    {r.title}
                  </a>
                ) : (
                  r.title
                )}{' '}
                <small>score {r.score}</small>
                <p>{r.text.length > 300 ? `${r.text.slice(0, 300)}…` : r.text}</p>
              </li>
            ))}
          </ol>
        </section>
      )}

      <div class="card">
        <button type="button" onClick={embed} disabled={action.busy}>
          Embed pending chunks
        </button>
        {sync && (
          <p class="sync-status" role="status">
            {sync.model === null
              ? 'No embedding model is configured: set one in AI provider to use dense or hybrid search.'
              : `${sync.model}: ${sync.embedded} embedded, ${sync.pending} pending${sync.error ? ` (provider error: ${sync.error})` : ''}.`}
          </p>
        )}
      </div>
      <ProblemView problem={action.problem} />
    </div>
  );
}
