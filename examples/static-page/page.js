// The widget's command API. Calls made before the widget has loaded are queued and replayed in order,
// so this file may run before loader.js. Kept out of the HTML so a strict script-src needs no 'unsafe-inline'.
window.Parley =
  window.Parley ||
  function () {
    // biome-ignore lint/complexity/noArguments: the widget's documented queue stub keeps every argument of each call, as loader.js replays it.
    (window.Parley.q = window.Parley.q || []).push(arguments);
  };

document.getElementById('ask').addEventListener('click', () => Parley('open'));
document.getElementById('hide').addEventListener('click', () => Parley('close'));

const log = document.getElementById('log');
Parley('on', 'open', () => {
  log.textContent = 'The assistant is open.';
});
Parley('on', 'close', () => {
  log.textContent = 'The assistant is closed.';
});
Parley('on', 'message', (m) => {
  log.textContent = `New message from ${m.role ?? 'the assistant'}.`;
});
Parley('on', 'error', (err) => {
  log.textContent = `The widget reported: ${err.message ?? err}`;
});

// On a site with logged-in users, hand the widget a Sign-In Pro token from your backend:
// Parley('identify', { getToken: () => fetch('/parley/session', { method: 'POST' }).then((r) => r.json()).then((b) => b.token) });
