// Knowledge: the sources the assistant answers from, adding Markdown inline or a web page or sitemap by its
// address (a sitemap's pages are crawled in the background, followed here while it runs), and a retrieval
// test that shows which mode answered (dense and hybrid fall back to BM25 without an embedding model).
import type { CrawlJob, EmbeddingSyncResponse, KnowledgeSearchResponse, KnowledgeSource } from '@parley/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { FieldError, fieldError, ProblemView, ScrollingTable, useAction, useLoad, When } from '../components.js';

/** How often a running crawl is asked about. */
const CRAWL_POLL_MS = 2000;
const running = (j: CrawlJob) => j.status === 'queued' || j.status === 'running';

export function KnowledgeView({ api, pollMs = CRAWL_POLL_MS }: { api: Api; pollMs?: number }) {
  const list = useLoad(() => api<{ sources: KnowledgeSource[] }>('GET', '/knowledge/sources'));
  const jobs = useLoad(() => api<{ jobs: CrawlJob[] }>('GET', '/knowledge/jobs'));
  const crawls = jobs.data?.jobs ?? [];
  const action = useAction();
  const web = useAction();
  const webForm = useRef<HTMLFormElement>(null);
  const [address, setAddress] = useState('');
  const [webKind, setWebKind] = useState<'url' | 'sitemap'>('url');
  const urlError = fieldError(web.problem, '/url');
  // While a crawl runs, ask again; the sources it stored are listed once it ends.
  const wasRunning = useRef(false);
  useEffect(() => {
    const now = crawls.some(running);
    if (wasRunning.current && !now) list.reload();
    wasRunning.current = now;
    if (!now) return;
    const t = setTimeout(jobs.reload, pollMs);
    return () => clearTimeout(t);
  }, [jobs.data]);
  const addWeb = (e: Event) => {
    e.preventDefault();
    void web.run(async () => {
      await api('POST', '/knowledge/sources', { kind: webKind, url: address.trim() });
      setAddress('');
      if (webKind === 'sitemap') jobs.reload();
      else list.reload();
    });
  };
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

      <form onSubmit={addWeb} class="card" ref={webForm}>
        <label for="knowledge-url">Add a web page or a sitemap by its address</label>
        <input
          id="knowledge-url"
          type="url"
          required
          maxLength={2000}
          placeholder="https://help.example.com/returns"
          value={address}
          onInput={(e) => setAddress(e.currentTarget.value)}
          aria-invalid={urlError ? 'true' : undefined}
          aria-describedby={urlError ? 'knowledge-url-error' : undefined}
        />
        <FieldError id="knowledge-url-error" message={urlError} />
        <fieldset>
          <legend class="sr-only">What the address is</legend>
          <label class="check">
            <input type="radio" name="knowledge-web-kind" checked={webKind === 'url'} onChange={() => setWebKind('url')} /> One page, fetched now
          </label>
          <label class="check">
            <input type="radio" name="knowledge-web-kind" checked={webKind === 'sitemap'} onChange={() => setWebKind('sitemap')} /> A sitemap: every
            page it lists, crawled in the background
          </label>
        </fieldset>
        <button type="submit" disabled={web.busy || !address.trim()}>
          {webKind === 'sitemap' ? 'Crawl' : 'Fetch'}
        </button>
      </form>
      <ProblemView problem={web.problem} inline={['/url']} form={webForm} />
      <ProblemView problem={jobs.problem} />
      {crawls.length ? (
        <section aria-labelledby="crawls-title">
          <h2 id="crawls-title">Sitemap crawls</h2>
          <ScrollingTable label="Sitemap crawls">
            <thead>
              <tr>
                <th scope="col">Sitemap</th>
                <th scope="col">Status</th>
                <th scope="col">Pages</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {crawls.map((j) => (
                <tr key={j.id}>
                  <td class="url">
                    <code>{j.url}</code>
                  </td>
                  <td>
                    <span class={`badge crawl-${j.status}`}>{j.status}</span>
                    {j.error ? <p class="field-error">{j.error}</p> : null}
                    {j.errors.length ? (
                      <details>
                        <summary>
                          {j.errors.length} {j.errors.length === 1 ? 'note' : 'notes'}
                        </summary>
                        <ul>
                          {j.errors.slice(0, 20).map((x, i) => (
                            <li key={i}>
                              {x.url ? <code>{x.url}</code> : null} {x.message}
                            </li>
                          ))}
                        </ul>
                      </details>
                    ) : null}
                  </td>
                  <td>
                    {j.pagesTotal === null ? j.pagesDone : `${j.pagesDone} of ${j.pagesTotal}`}
                    {j.pagesFailed ? ` (${j.pagesFailed} failed)` : ''}
                  </td>
                  <td>
                    <When iso={j.startedAt ?? j.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </ScrollingTable>
          <p class="muted" role="status">
            {crawls.some(running) ? 'A crawl is running: this list follows it, and its pages join the sources above as it ends.' : ''}
          </p>
        </section>
      ) : null}

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
