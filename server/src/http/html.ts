// Text put into HTML the server writes itself (the demo's help pages, an evidence pack's report).
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
