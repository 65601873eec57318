// Queue commands before the widget has loaded, then hand it a way to fetch Sign-In Pro tokens from our
// backend. Kept in a file rather than inline so a strict script-src needs no 'unsafe-inline'.
window.Parley =
  window.Parley ||
  ((...args) => {
    (window.Parley.q = window.Parley.q || []).push(args);
  });
window.Parley('identify', {
  getToken: async () => {
    const res = await fetch('/parley/session', { method: 'POST', credentials: 'same-origin' });
    if (!res.ok) throw new Error(`session endpoint answered ${res.status}`);
    return (await res.json()).token;
  },
});
