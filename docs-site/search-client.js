// The docs' search box: loads the prebuilt index on first use and lists the best pages as you type.
// Enter (or the form without script) goes to search.html?q=…, which lists every match.
(function () {
  'use strict';
  var index = null;
  var loading = null;
  function load() {
    if (index) return Promise.resolve(index);
    if (!loading) {
      loading = fetch('/docs/search-index.json')
        .then(function (r) {
          if (!r.ok) throw new Error('search index: ' + r.status);
          return r.text();
        })
        .then(function (json) {
          index = MiniSearch.loadJSON(json, PARLEY_SEARCH_OPTIONS);
          return index;
        });
    }
    return loading;
  }
  function search(q) {
    return load().then(function (mini) {
      // Guides first among equals: they explain; the reference pages they link to give the detail.
      return mini.search(q, {
        prefix: true,
        fuzzy: 0.2,
        boost: { title: 3, headings: 2 },
        combineWith: 'AND',
        boostDocument: function (id, term, stored) {
          return stored && stored.section === 'Guide' ? 1.5 : 1;
        },
      });
    });
  }
  function item(hit) {
    var li = document.createElement('li');
    var a = document.createElement('a');
    a.href = hit.id;
    a.textContent = hit.title;
    var section = document.createElement('span');
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

  var form = document.querySelector('form.search');
  if (form) {
    var input = form.querySelector('input[type=search]');
    var list = form.querySelector('.search-results');
    var status = form.querySelector('.search-status');
    var seq = 0;
    input.addEventListener('focus', function () {
      load().catch(function () {});
    });
    input.addEventListener('input', function () {
      var q = input.value.trim();
      var mine = ++seq;
      if (!q) {
        list.hidden = true;
        status.textContent = '';
        return;
      }
      search(q).then(function (hits) {
        if (mine === seq) render(list, status, hits, 8);
      }, function () {
        status.textContent = 'Search is unavailable.';
      });
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') {
        input.value = '';
        list.hidden = true;
        status.textContent = '';
      } else if (e.key === 'ArrowDown' && !list.hidden) {
        var first = list.querySelector('a');
        if (first) (e.preventDefault(), first.focus());
      }
    });
    list.addEventListener('keydown', function (e) {
      var links = Array.prototype.slice.call(list.querySelectorAll('a'));
      var i = links.indexOf(document.activeElement);
      if (e.key === 'ArrowDown' && i < links.length - 1) (e.preventDefault(), links[i + 1].focus());
      else if (e.key === 'ArrowUp') (e.preventDefault(), i > 0 ? links[i - 1].focus() : input.focus());
      else if (e.key === 'Escape') input.focus();
    });
  }

  // The results page.
  var page = document.querySelector('.search-page');
  if (page) {
    var q = new URLSearchParams(location.search).get('q') || '';
    var pageList = page.querySelector('.search-results');
    var pageStatus = page.querySelector('.search-status');
    var box = document.querySelector('form.search input[type=search]');
    if (box) box.value = q;
    if (q.trim()) {
      search(q.trim()).then(function (hits) {
        render(pageList, pageStatus, hits, 100);
      }, function () {
        pageStatus.textContent = 'Search is unavailable.';
      });
    } else {
      pageStatus.textContent = 'Type words to search for in the box.';
    }
  }
})();
