// The cards of the lazily loaded parts (actions, rating, away): one stylesheet they share, carried by
// each part's file and adopted once (lazy.ts), before the part's own.
export const CARD = `\
.card{border:1px solid var(--line);border-radius:12px;padding:10px 12px;font-size:14px;background:var(--bubble)}\
.card p{margin:0 0 6px}.card label{display:block;margin-bottom:6px}\
.card form{padding:0;border:0;flex-direction:column;align-items:flex-start}\
.card textarea{align-self:stretch;flex:none}.row{display:flex;gap:8px;align-self:stretch}\
input{flex:1;min-width:0;font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:10px;padding:8px 10px}\
.card button{padding:6px 14px}\
`;
