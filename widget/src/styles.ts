// The widget's stylesheet, adopted into its shadow root (no inline styles: strict CSP holds). The string
// ships as written, so its lines end in a backslash (no line breaks in it) and its comments are here:
// - important on :host beats the page's own !important rules on our host element (inner context wins);
// - the accent itself reads at 4.1:1 on a light bubble, 3.3:1 on a dark one: links take it darker (more
//   so for a light accent, --lk) or lighter;
// - the launcher keeps the loader's styles (shape, size, one line): only its colours follow the settings;
//   a count of unread messages floats at its end, so a long text's ellipsis never hides it;
// - .sr is heard, not seen: the status that says a reply came while the panel was closed.
export const CSS = `\
:host{all:initial!important;display:block!important;position:fixed!important;bottom:20px!important;top:auto!important;z-index:var(--z)!important;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif!important;color:var(--fg)!important;visibility:visible!important;opacity:1!important;transform:none!important;--fg:#111;--bg:#fff;--muted:#5b6270;--line:#e3e6eb;--bubble:#f2f4f7;--link:color-mix(in srgb,var(--accent) var(--lk),#000);--vh:100vh;--vt:0px}\
:host([data-side=right]){right:20px!important;left:auto!important}:host([data-side=left]){left:20px!important;right:auto!important}\
:host([data-theme=dark]){--fg:#eef0f3;--bg:#17191d;--muted:#a3a9b5;--line:#2c3038;--bubble:#23262c;--link:color-mix(in srgb,var(--accent) 50%,#fff)}\
@media (prefers-color-scheme:dark){:host([data-theme=auto]){--fg:#eef0f3;--bg:#17191d;--muted:#a3a9b5;--line:#2c3038;--bubble:#23262c;--link:color-mix(in srgb,var(--accent) 50%,#fff)}}\
*{box-sizing:border-box}\
button{font:inherit;cursor:pointer}button:disabled{opacity:.55;cursor:default}\
.l{color:var(--on);background:var(--accent)}\
.l[data-n]::before{content:attr(data-n);float:inline-end;margin-inline-start:8px;padding:1px 6px;border-radius:9px;background:#c00;color:#fff;font-size:12px}\
.sr{position:absolute;clip-path:inset(50%)}\
.l:focus-visible,.log:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\
.p{position:absolute;bottom:64px;width:380px;max-width:calc(100vw - 40px);height:min(600px,calc(var(--vh) - 110px));display:flex;flex-direction:column;background:var(--bg);border:1px solid var(--line);border-radius:14px;box-shadow:0 12px 40px #0004;overflow:hidden}\
:host([data-side=right]) .p{right:0}:host([data-side=left]) .p{left:0}\
.hd{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--accent);color:var(--on)}\
.ttl{flex:1;min-width:0}\
.hd h2{margin:0;font-size:16px}\
.hd button{background:none;border:1px solid color-mix(in srgb,var(--on) 55%,transparent);color:var(--on);border-radius:8px;padding:4px 8px;font-size:13px}\
.v{display:inline-block;margin-top:3px;font-size:12px;background:#0003;border-radius:6px;padding:2px 6px}\
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}\
.m{max-width:85%;padding:8px 12px;border-radius:12px;background:var(--bubble);overflow-wrap:anywhere}\
.m.visitor{align-self:flex-end;background:var(--accent);color:var(--on)}\
.m.visitor a{color:var(--on)}\
.m.agent{border:1px solid var(--accent)}\
.who{display:block;font-size:11px;color:var(--muted);margin-bottom:2px}\
.m.visitor .who{color:var(--on)}\
.m.agent .who{display:flex;align-items:center;gap:6px;font-size:12px;font-weight:600;color:var(--fg)}\
.av{display:inline-grid;place-items:center;width:22px;height:22px;border-radius:50%;background:var(--accent);color:var(--on);font-size:12px}\
.md p{margin:0 0 6px}.md p:last-child{margin:0}.md ul,.md ol{margin:4px 0;padding-inline-start:20px}\
.md pre{background:#0001;padding:8px;border-radius:6px;overflow-x:auto}\
a{color:var(--link)}\
.cite{font-size:12px;vertical-align:super;text-underline-offset:1px}\
.src{margin:6px 0 0;padding:0;list-style:none;font-size:12px}\
.note{align-self:center;font-size:13px;color:var(--muted);text-align:center}\
.bar{padding:8px 12px;font-size:13px;background:#fff4d6;color:#5c4400;display:flex;gap:8px;align-items:center}\
.bar button,.src button{border:1px solid currentColor;background:none;color:inherit;border-radius:6px;padding:2px 8px}\
form{display:flex;gap:8px;padding:10px;border-top:1px solid var(--line)}\
textarea{flex:1;resize:none;font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:10px;padding:8px 10px;max-height:120px}\
form button{border:0;border-radius:10px;padding:0 14px;background:var(--accent);color:var(--on);font-weight:600}\
.dots::after{content:"…";animation:b 1s steps(4) infinite}\
@keyframes b{0%{opacity:.2}50%{opacity:1}}\
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}\
@media (max-width:480px){:host{bottom:12px!important}:host([data-side=right]){right:12px!important}:host([data-side=left]){left:12px!important}\
.p{position:fixed;top:var(--vt);left:0;right:0;bottom:auto;width:100vw;max-width:none;height:var(--vh);border-radius:0;border:0}}\
`;
