// Knowledge: the sources the assistant answers from, adding Markdown inline or a web page or sitemap by its
// address (a sitemap's pages are crawled in the background, followed here while it runs), and a retrieval
// test that shows which mode answered (dense and hybrid fall back to BM25 without an embedding model).
// Adding, deleting and embedding need knowledge:write: without it the page lists and tests only.
import type { CrawlJob, EmbeddingSyncResponse, KnowledgeSearchResponse, KnowledgeSource } from '@parley/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import type { ViewProps } from '../app.js';
import { count, FieldError, fieldError, ProblemView, ScrollingTable, useAction, useLoad, When } from '../components.js';

/** How often a running crawl is asked about. */
const CRAWL_POLL_MS = 2000;
const running = (j: CrawlJob) => j.status === 'queued' || j.status === 'running';

/** The retrieval modes in plain words (the technical name after, for those who know it). */
const MODES: Record<string, string> = {
  auto: 'Automatic',
  bm25: 'Keywords (BM25)',
  dense: 'Meaning (dense)',
  hybrid: 'Keywords and meaning (hybrid)',
};

type Added = { sources: (KnowledgeSource & { changed: boolean })[] } | { job: CrawlJob };

/** What adding stored, said in a sentence. */
const addedText = (out: Added | undefined, page: boolean) => {
  if (!out) return 'Added.';
  if ('job' in out) return 'The sitemap is being crawled: its progress is shown below.';
  const s = out.sources[0];
  if (!s) return 'Added.';
  if (!s.changed) return `“${s.title}” is already up to date.`;
  return `Added “${s.title}”${page ? ' from the page' : ''}: ${count(s.chunks, 'passage')}.`;
};

export function KnowledgeView({ api, me, pollMs = CRAWL_POLL_MS }: { api: Api; me: ViewProps['me']; pollMs?: number }) {
  const canWrite = me.capabilities.includes('knowledge:write');
  const list = useLoad(() => api<{ sources: KnowledgeSource[] }>('GET', '/knowledge/sources'));
  const jobs = useLoad(() => api<{ jobs: CrawlJob[] }>('GET', '/knowledge/jobs'));
  const crawls = jobs.data?.jobs ?? [];
  // One action each, so that each one's error is shown beside it.
  const adding = useAction();
  const web = useAction();
  const removing = useAction();
  const searching = useAction();
  const embedding = useAction();
  const webForm = useRef<HTMLFormElement>(null);
  const [address, setAddress] = useState('');
  const [webKind, setWebKind] = useState<'url' | 'sitemap'>('url');
  const urlError = fieldError(web.problem, '/url');
  // What the last add or delete did; it takes the focus when the button that did it is gone or disabled.
  const [addedNote, setAddedNote] = useState('');
  const [webNote, setWebNote] = useState('');
  const [removedNote, setRemovedNote] = useState('');
  const addedRef = useRef<HTMLParagraphElement>(null);
  const webRef = useRef<HTMLParagraphElement>(null);
  const removedRef = useRef<HTMLParagraphElement>(null);
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
    setWebNote('');
    void web.run(
      async () => {
        const out = await api<Added>('POST', '/knowledge/sources', { kind: webKind, url: address.trim() });
        setAddress('');
        setWebNote(addedText(out, true));
        if (webKind === 'sitemap') jobs.reload();
        else list.reload();
      },
      { focus: () => webRef.current },
    );
  };
  const [content, setContent] = useState('');
  const [externalId, setExternalId] = useState('');
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState('auto');
  const [found, setFound] = useState<KnowledgeSearchResponse | null>(null);
  const [sync, setSync] = useState<EmbeddingSyncResponse | null>(null);

  const add = (e: Event) => {
    e.preventDefault();
    setAddedNote('');
    void adding.run(
      async () => {
        const out = await api<Added>('POST', '/knowledge/sources', {
          kind: 'markdown',
          content,
          ...(externalId.trim() ? { externalId: externalId.trim() } : {}),
        });
        setContent('');
        setExternalId('');
        setAddedNote(addedText(out, false));
        list.reload();
      },
      { focus: () => addedRef.current },
    );
  };
  const remove = (s: KnowledgeSource) => {
    if (!confirm(`Delete “${s.title}” and its ${count(s.chunks, 'passage')}? The assistant stops answering from it.`)) return;
    setRemovedNote('');
    void removing.run(
      async () => {
        await api('DELETE', `/knowledge/sources/${s.id}`);
        setRemovedNote(`Deleted “${s.title}”.`);
        list.reload();
      },
      { focus: () => removedRef.current },
    );
  };
  const search = (e: Event) => {
    e.preventDefault();
    void searching.run(async () =>
      setFound(await api('POST', '/knowledge/search', { query: query.trim(), limit: 5, ...(mode === 'auto' ? {} : { mode }) })),
    );
  };
  const embed = () => void embedding.run(async () => setSync(await api<EmbeddingSyncResponse>('POST', '/knowledge/embeddings', {})));

  return (
    <div>
      <ProblemView problem={list.problem} />
      <ScrollingTable label="Knowledge sources">
        <thead>
          <tr>
            <th scope="col">Title</th>
            <th scope="col">Your id</th>
            <th scope="col">Passages</th>
            <th scope="col">Updated</th>
            {canWrite ? (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            ) : null}
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
              {canWrite ? (
                <td>
                  <button type="button" class="danger" onClick={() => remove(s)} aria-disabled={removing.busy} aria-label={`Delete ${s.title}`}>
                    Delete
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </ScrollingTable>
      {list.data && !list.data.sources.length ? <p class="muted">No knowledge yet{canWrite ? ': add some below.' : '.'}</p> : null}
      <p class="muted" role="status" tabIndex={-1} ref={removedRef}>
        {removedNote}
      </p>
      <ProblemView problem={removing.problem} />
      {canWrite ? null : <p class="muted">Your role can read the knowledge and test retrieval; an owner or admin adds and deletes sources.</p>}

      {canWrite ? (
        <>
          <form onSubmit={add} class="card">
            <label for="knowledge-content">Add Markdown (headings become citable sections)</label>
            <textarea id="knowledge-content" rows={6} required value={content} onInput={(e) => setContent(e.currentTarget.value)} />
            <label for="knowledge-external-id">Your id (posting the same id again replaces the source)</label>
            <input id="knowledge-external-id" maxLength={200} value={externalId} onInput={(e) => setExternalId(e.currentTarget.value)} />
            <button type="submit" disabled={!content.trim()} aria-disabled={adding.busy}>
              Add
            </button>
            <p class="muted" role="status" tabIndex={-1} ref={addedRef}>
              {addedNote}
            </p>
          </form>
          <ProblemView problem={adding.problem} />

          <form onSubmit={addWeb} class="card" ref={webForm}>
            <label for="knowledge-url">Add a web page or a sitemap by its address</label>
            <input
              id="knowledge-url"
              type="url"
              required
              maxLength={2000}
              placeholder="https://help.example.com/returns"
              value={address}
              onInput={(e) => {
                setAddress(e.currentTarget.value);
                // The error was about the address as it was: editing it clears the message.
                if (web.problem) web.setProblem(null);
              }}
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
                <input type="radio" name="knowledge-web-kind" checked={webKind === 'sitemap'} onChange={() => setWebKind('sitemap')} /> A sitemap:
                every page it lists, crawled in the background
              </label>
            </fieldset>
            <button type="submit" disabled={!address.trim()} aria-disabled={web.busy}>
              {webKind === 'sitemap' ? 'Crawl' : 'Fetch'}
            </button>
            <p class="muted" role="status" tabIndex={-1} ref={webRef}>
              {webNote}
            </p>
          </form>
          <ProblemView problem={web.problem} inline={['/url']} form={webForm} />
        </>
      ) : null}
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
          {Object.entries(MODES).map(([m, label]) => (
            <option key={m} value={m}>
              {label}
            </option>
          ))}
        </select>
        <button type="submit" disabled={!query.trim()} aria-disabled={searching.busy}>
          Search
        </button>
      </form>
      <ProblemView problem={searching.problem} />
      {found && (
        <section aria-live="polite">
          <p>
            {found.results.length ? `Found ${count(found.results.length, 'passage')} by ` : 'Nothing found by '}
            <strong class="search-mode">{MODES[found.mode]?.toLowerCase() ?? found.mode}</strong>
            {mode !== 'auto' && mode !== found.mode ? ' (no embedding model is set, so keywords were used instead)' : ''}.
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

      {canWrite ? (
        <div class="card">
          <p class="muted" id="embed-help">
            Search by meaning (dense or hybrid) needs each passage embedded by your embedding model. New passages are embedded as they are added; this
            catches up any still waiting, for example after the model was set or was unavailable.
          </p>
          <button type="button" onClick={embed} aria-disabled={embedding.busy} aria-describedby="embed-help">
            Embed waiting passages
          </button>
          {sync && (
            <p class="sync-status" role="status">
              {sync.model === null
                ? 'No embedding model is configured: set one in AI provider to search by meaning.'
                : `${sync.model}: ${count(sync.embedded, 'passage')} embedded, ${sync.pending} still waiting${sync.error ? ` (the provider said: ${sync.error})` : ''}.`}
            </p>
          )}
          <ProblemView problem={embedding.problem} />
        </div>
      ) : null}
    </div>
  );
}
