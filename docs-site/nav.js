// The navigation's links fold under "Contents" on a narrow screen (the article comes first) and stay open
// beside the article on a wide one. Loaded right after the navigation, so it runs before the first paint.
(() => {
  const contents = document.currentScript?.parentElement?.querySelector('details.contents');
  if (!contents) return;
  const wide = matchMedia('(min-width: 701px)');
  const fit = () => {
    contents.open = wide.matches;
  };
  fit();
  wide.addEventListener('change', fit);
})();
