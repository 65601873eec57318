// The docs' search box: loads the prebuilt index on first use and lists the best pages as you type.
// Enter (or the form without script) goes to search.html?q=…, which lists every match.
(() => {
  let index = null;
  let loading = null;
  function load() {
    if (index) return Promise.resolve(index);
    if (!loading) {
      loading = fetch('/docs/search-index.json')
        .then((r) => {
          if (!r.ok) throw new Error('search index: ' + r.status);
          return r.text();
        })
        .then((json) => {
          index = MiniSearch.loadJSON(json, PARLEY_SEARCH_OPTIONS);
          return index;
        });
    }
    return loading;
  }
  function search(q) {
    return load().then((mini) => {
      // Guides first among near-equals (search.mjs: the tests search the same way).
      return mini.search(q, { ...PARLEY_QUERY_OPTIONS, processTerm: PARLEY_QUERY_TERM, boostDocument: PARLEY_BOOST_DOCUMENT });
    });
  }
  function item(hit) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = hit.id;
    a.textContent = hit.title;
    const section = document.createElement('span');
    section.className = 'search-section';
    section.textContent = hit.section;
    li.appendChild(a);
    li.appendChild(section);
    return li;
  }
  function render(list, status, hits, limit) {
    list.replaceChildren.apply(list, hits.slice(0, limit).map(item));
    list.hidden = hits.length === 0;
    status.textContent = hits.length === 0 ? 'No pages match.' : hits.length === 1 ? '1 page matches.' : hits.length + ' pages match.';
  }

  const form = document.querySelector('form.search');
  if (form) {
    const input = form.querySelector('input[type=search]');
    const list = form.querySelector('.search-results');
    const status = form.querySelector('.search-status');
    let seq = 0;
    input.addEventListener('focus', () => {
      load().catch(() => {});
    });
    input.addEventListener('input', () => {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) {
        list.hidden = true;
        status.textContent = '';
        return;
      }
      search(q).then(
        (hits) => {
          if (mine === seq) render(list, status, hits, 8);
        },
        () => {
          status.textContent = 'Search is unavailable.';
        },
      );
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        input.value = '';
        list.hidden = true;
        status.textContent = '';
      } else if (e.key === 'ArrowDown' && !list.hidden) {
        const first = list.querySelector('a');
        if (first) e.preventDefault(), first.focus();
      }
    });
    list.addEventListener('keydown', (e) => {
      const links = Array.prototype.slice.call(list.querySelectorAll('a'));
      const i = links.indexOf(document.activeElement);
      if (e.key === 'ArrowDown' && i < links.length - 1) e.preventDefault(), links[i + 1].focus();
      else if (e.key === 'ArrowUp') e.preventDefault(), i > 0 ? links[i - 1].focus() : input.focus();
      else if (e.key === 'Escape') input.focus();
    });
  }

  // The results page.
  const page = document.querySelector('.search-page');
  if (page) {
    const q = new URLSearchParams(location.search).get('q') || '';
    const pageList = page.querySelector('.search-results');
    const pageStatus = page.querySelector('.search-status');
    const box = document.querySelector('form.search input[type=search]');
    if (box) box.value = q;
    if (q.trim()) {
      search(q.trim()).then(
        (hits) => {
          render(pageList, pageStatus, hits, 100);
        },
        () => {
          pageStatus.textContent = 'Search is unavailable.';
        },
      );
    } else {
      pageStatus.textContent = 'Type words to search for in the box.';
    }
  }
})();
