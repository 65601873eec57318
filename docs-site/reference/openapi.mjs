// Endpoint reference pages from the OpenAPI 3.1 document: one page per operation (and per webhook), grouped
// by tag on an index page. Everything shown — method, path, auth, capability, parameters, bodies, responses
// and the curl example — is read from the document, so the pages cannot drift from what protocol defines.
import { esc, slugify } from './html.mjs';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const kebab = (s) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();

/** The page name of an operation (served as /docs/<name>.html). */
export const operationPage = (op) => `api-${kebab(op.operationId)}`;
export const API_INDEX = 'api';

/** Follows a local `$ref` (`#/components/...`); anything else is returned as it is. */
function deref(doc, node, seen = new Set()) {
  while (node && typeof node.$ref === 'string') {
    if (seen.has(node.$ref)) return { type: 'object', description: `(recursive: ${node.$ref})` };
    seen.add(node.$ref);
    const path = node.$ref
      .replace(/^#\//, '')
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const target = path.reduce((n, k) => n?.[k], doc);
    if (!target) throw new Error(`OpenAPI: unresolved $ref ${node.$ref}`);
    node = { ...target, ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref')) };
  }
  return node;
}

const refName = (node) => (typeof node?.$ref === 'string' ? node.$ref.split('/').pop() : undefined);

/** A schema's type in a few words: `string (uuid)`, `"open" | "closed"`, `Domain[]`, `string | null`. */
export function typeOf(doc, raw) {
  const name = refName(raw);
  const s = deref(doc, raw);
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = s.anyOf ?? s.oneOf;
  if (union) return union.map((u) => typeOf(doc, u)).join(' | ');
  if (s.allOf) return name ?? 'object';
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const one = (t) => {
    if (t === 'array') return `${s.items ? typeOf(doc, s.items) : 'unknown'}[]`;
    if (t === 'object')
      return (
        name ??
        (s.properties
          ? 'object'
          : s.additionalProperties
            ? `record<string, ${typeOf(doc, s.additionalProperties === true ? {} : s.additionalProperties)}>`
            : 'object')
      );
    return s.format && t !== 'null' ? `${t} (${s.format})` : t;
  };
  if (!types.length) return s.properties ? (name ?? 'object') : 'any';
  return types.map(one).join(' | ');
}

/** Limits and defaults worth a developer's attention, in words. */
function constraints(s) {
  const out = [];
  const range = (what, min, max) =>
    min !== undefined && max !== undefined
      ? `${what} ${min}–${max}`
      : min !== undefined
        ? `${what} ≥ ${min}`
        : max !== undefined
          ? `${what} ≤ ${max}`
          : undefined;
  const length = range('length', s.minLength, s.maxLength);
  if (length) out.push(length);
  const value = range('value', s.minimum, s.maximum);
  if (value) out.push(value);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  const items = range('items', s.minItems, s.maxItems);
  if (items) out.push(items);
  if (s.pattern && !s.format) out.push(`pattern <code>${esc(s.pattern)}</code>`);
  if (s.default !== undefined) out.push(`default <code>${esc(JSON.stringify(s.default))}</code>`);
  return out.join('; ');
}

/** The object members a schema has, merging allOf and the object arms of a union (for the field table). */
function members(doc, raw) {
  const s = deref(doc, raw);
  if (s.allOf) {
    const parts = s.allOf.map((p) => members(doc, p));
    return { properties: Object.assign({}, ...parts.map((p) => p.properties)), required: parts.flatMap((p) => p.required) };
  }
  return { properties: s.properties ?? {}, required: s.required ?? [] };
}

/** One row per field, nested fields as dotted paths (`domain.pattern`, `items[].id`), to a sensible depth. */
export function fieldRows(doc, raw, prefix = '', depth = 0, seen = new Set()) {
  const name = refName(raw);
  if (name && seen.has(name)) return [];
  const nextSeen = name ? new Set([...seen, name]) : seen;
  const s = deref(doc, raw);
  if (depth > 5) return [];
  const rows = [];
  const arr = Array.isArray(s.type) ? s.type.includes('array') : s.type === 'array';
  if (arr && s.items) return fieldRows(doc, s.items, `${prefix}[]`, depth + 1, nextSeen);
  const union = (s.anyOf ?? s.oneOf)?.filter((u) => deref(doc, u).type !== 'null');
  if (union?.length === 1) return fieldRows(doc, union[0], prefix, depth, nextSeen);
  const { properties, required } = members(doc, s);
  for (const [key, child] of Object.entries(properties)) {
    const c = deref(doc, child);
    const path = prefix ? `${prefix}.${key}` : key;
    rows.push({ path, type: typeOf(doc, child), required: required.includes(key), description: c.description ?? '', constraints: constraints(c) });
    rows.push(...fieldRows(doc, child, path, depth + 1, nextSeen));
  }
  return rows;
}

/** A union member's name from its discriminator, e.g. `event: "message"`. */
function variantName(doc, raw) {
  const { properties } = members(doc, raw);
  const entry = Object.entries(properties).find(([, v]) => deref(doc, v).const !== undefined);
  return entry ? `${entry[0]}: ${JSON.stringify(deref(doc, entry[1]).const)}` : undefined;
}

/** A schema as a table of its fields (one table per member of a union of objects), or its type in words. */
export function schemaTable(doc, schema, caption) {
  const top = deref(doc, schema);
  const variants = (top.oneOf ?? top.anyOf)?.filter((v) => deref(doc, v).type !== 'null');
  if (variants?.length > 1 && variants.every((v) => fieldRows(doc, v).length)) {
    return `<p>${esc(caption)}: one of ${variants.length} shapes.</p>\n${variants.map((v, i) => schemaTable(doc, v, `${caption}, ${variantName(doc, v) ?? `shape ${i + 1}`}`)).join('\n')}`;
  }
  const rows = fieldRows(doc, schema);
  if (!rows.length) return `<p>${esc(caption)}: <code>${esc(typeOf(doc, schema))}</code>${top.description ? ` — ${esc(top.description)}` : ''}</p>`;
  const body = rows
    .map(
      (r) =>
        `<tr><th scope="row"><code>${esc(r.path)}</code></th><td><code>${esc(r.type)}</code></td><td>${r.required ? 'required' : 'optional'}</td><td>${inline(r.description)}${r.constraints ? `${r.description ? '<br>' : ''}<span class="constraints">${r.constraints}</span>` : ''}</td></tr>`,
    )
    .join('\n');
  return `<div class="table-wrap"><table class="fields"><caption>${esc(caption)}${refName(schema) ? ` (<code>${esc(refName(schema))}</code>)` : ''}</caption><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** Descriptions in the document are short Markdown: `code` spans and relative links are rendered, the rest escaped. */
const inline = (md = '') =>
  esc(md)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\[([^\]]+)\]\(([a-z0-9#./-]+)\)/g, '<a href="$2">$1</a>');

/** A plausible value of a schema, for the curl example: example, default, const, first enum value, or by type. */
export function exampleOf(doc, raw, depth = 0) {
  const s = deref(doc, raw);
  if (s.example !== undefined) return s.example;
  if (s.examples?.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const union = s.anyOf ?? s.oneOf;
  if (union) return exampleOf(doc, union.find((u) => deref(doc, u).type !== 'null') ?? union[0], depth);
  if (depth > 6) return null;
  const types = Array.isArray(s.type) ? s.type.filter((t) => t !== 'null') : [s.type];
  const t = types[0] ?? (s.properties || s.allOf ? 'object' : undefined);
  switch (t) {
    case 'object': {
      const { properties, required } = members(doc, s);
      // Required fields only, unless there are none (then every field shows what may be sent).
      const keys = Object.keys(properties).filter((k) => required.includes(k));
      return Object.fromEntries((keys.length ? keys : Object.keys(properties)).map((k) => [k, exampleOf(doc, properties[k], depth + 1)]));
    }
    case 'array':
      return s.items ? [exampleOf(doc, s.items, depth + 1)] : [];
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      return (
        {
          uuid: '00000000-0000-4000-8000-000000000000',
          'date-time': '2026-01-01T00:00:00Z',
          date: '2026-01-01',
          email: 'ada@example.com',
          uri: 'https://example.com/',
          url: 'https://example.com/',
        }[s.format] ?? 'string'
      );
    default:
      return null;
  }
}

/** How a security scheme is presented by curl: a header, or a cookie. */
function credential(doc, name) {
  const scheme = doc.components?.securitySchemes?.[name];
  const env = `$PARLEY_${kebab(name).replace(/-/g, '_').toUpperCase()}`;
  if (!scheme) return { flag: `-H "Authorization: Bearer ${env}"` };
  if (scheme.type === 'http' && scheme.scheme === 'bearer') return { flag: `-H "Authorization: Bearer ${env}"` };
  if (scheme.type === 'http' && scheme.scheme === 'basic') return { flag: `-u "${env}"` };
  if (scheme.type === 'apiKey' && scheme.in === 'header') return { flag: `-H "${scheme.name}: ${env}"` };
  if (scheme.type === 'apiKey' && scheme.in === 'query') return { query: [scheme.name, env] };
  if (scheme.type === 'apiKey' && scheme.in === 'cookie') return { flag: `--cookie "${scheme.name}=${env}"` };
  return {};
}

/** The curl command for an operation, built from its path, parameters, first security scheme and body. */
export function curlExample(doc, op) {
  const params = (op.parameters ?? []).map((p) => deref(doc, p));
  let path = op.path;
  for (const p of params.filter((p) => p.in === 'path'))
    path = path.replace(`{${p.name}}`, encodeURIComponent(String(exampleOf(doc, p.schema ?? {}))));
  const query = params.filter((p) => p.in === 'query' && p.required).map((p) => [p.name, String(exampleOf(doc, p.schema ?? {}))]);
  const lines = [`curl${op.method === 'get' ? '' : ` -X ${op.method.toUpperCase()}`}`];
  const first = (op.security ?? doc.security ?? []).find((req) => Object.keys(req).length);
  if (first) {
    const c = credential(doc, Object.keys(first)[0]);
    if (c.flag) lines.push(c.flag);
    if (c.query) query.push(c.query);
  }
  for (const p of params.filter((p) => p.in === 'header')) lines.push(`-H "${p.name}: ${exampleOf(doc, p.schema ?? {})}"`);
  const body = op.requestBody && deref(doc, op.requestBody);
  const [type, media] = body?.content ? Object.entries(body.content)[0] : [];
  if (media) {
    const value = exampleOf(doc, media.schema ?? {});
    lines.push(`-H "Content-Type: ${type}"`);
    const data =
      type === 'application/x-www-form-urlencoded'
        ? new URLSearchParams(Object.entries(value ?? {}).map(([k, v]) => [k, String(v)])).toString()
        : JSON.stringify(value);
    lines.push(`-d '${data.replace(/'/g, "'\\''")}'`);
  }
  const qs = query.length ? `?${query.map(([k, v]) => `${encodeURIComponent(k)}=${v.startsWith('$') ? v : encodeURIComponent(v)}`).join('&')}` : '';
  lines.splice(1, 0, `"$PARLEY_URL${path}${qs}"`);
  return lines.join(' \\\n  ');
}

/** Every operation of the document (paths, then webhooks), each with its method, path and tag. */
export function operationsOf(doc) {
  const ops = [];
  for (const [where, items] of [
    ['path', doc.paths ?? {}],
    ['webhook', doc.webhooks ?? {}],
  ]) {
    for (const [path, item] of Object.entries(items)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        if (!op.operationId) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} has no operationId`);
        const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])];
        // A webhook's summary is often just its type: on the index, the first sentence of its description says more.
        const blurb =
          where === 'webhook' && (!op.summary || op.summary === path) && op.description ? op.description.split(/(?<=\.)\s|\n/)[0] : op.summary;
        ops.push({
          ...op,
          blurb,
          parameters,
          method,
          path,
          webhook: where === 'webhook',
          tag: op.tags?.[0] ?? (where === 'webhook' ? 'Webhooks' : 'Other'),
        });
      }
    }
  }
  const seen = new Set();
  for (const op of ops) {
    const page = operationPage(op);
    if (seen.has(page)) throw new Error(`OpenAPI: two operations share the page ${page} (operationId ${op.operationId})`);
    seen.add(page);
  }
  return ops;
}

const capabilityOf = (op) => op['x-parley-capability'] ?? op['x-capability'] ?? op['x-parley']?.capability;
const problemStatus = (doc, res) => Object.keys(deref(doc, res).content ?? {}).some((t) => t === 'application/problem+json');

function authSection(doc, op) {
  const reqs = op.security ?? doc.security ?? [];
  const schemes = doc.components?.securitySchemes ?? {};
  const cap = capabilityOf(op);
  const items = reqs.length
    ? reqs.map((req) => {
        const names = Object.keys(req);
        if (!names.length) return '<li>none (public)</li>';
        return `<li>${names.map((n) => `<code>${esc(n)}</code>${schemes[n]?.description ? `: ${inline(schemes[n].description)}` : ''}`).join(' and ')}</li>`;
      })
    : ['<li>none (public)</li>'];
  return `<h2 id="authentication">Authentication</h2>\n<p>${reqs.length > 1 ? 'Any one of:' : ''}</p><ul>${items.join('')}</ul>${
    cap
      ? `<p>Capability: <a href="team-and-sign-in.html#roles"><code>${esc(cap)}</code></a> (a key or a person’s role must hold it; otherwise <a href="problems/missing-capability">403 missing-capability</a>).</p>`
      : ''
  }`;
}

function parametersSection(doc, op) {
  const params = op.parameters.map((p) => deref(doc, p));
  if (!params.length) return '';
  const rows = params
    .map((p) => {
      const s = deref(doc, p.schema ?? {});
      const c = constraints(s);
      return `<tr><th scope="row"><code>${esc(p.name)}</code></th><td>${esc(p.in)}</td><td><code>${esc(typeOf(doc, p.schema ?? {}))}</code></td><td>${p.required ? 'required' : 'optional'}</td><td>${inline(p.description ?? s.description ?? '')}${c ? `${p.description || s.description ? '<br>' : ''}<span class="constraints">${c}</span>` : ''}</td></tr>`;
    })
    .join('\n');
  return `<h2 id="parameters">Parameters</h2>\n<div class="table-wrap"><table class="fields"><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>\n${rows}\n</tbody></table></div>`;
}

function bodySection(doc, op) {
  if (!op.requestBody) return '';
  const body = deref(doc, op.requestBody);
  const parts = Object.entries(body.content ?? {}).map(
    ([type, media]) =>
      `<p>Content type <code>${esc(type)}</code>${body.required ? ', required' : ''}.</p>${media.schema ? schemaTable(doc, media.schema, op.webhook ? 'Payload' : 'Request body') : ''}`,
  );
  return `<h2 id="request-body">${op.webhook ? 'Payload' : 'Request body'}</h2>\n${body.description ? `<p>${inline(body.description)}</p>` : ''}${parts.join('\n')}`;
}

function responsesSection(doc, op) {
  const entries = Object.entries(op.responses ?? {});
  const ok = entries.filter(([, r]) => !problemStatus(doc, r));
  const problems = entries.filter(([, r]) => problemStatus(doc, r));
  const okHtml = ok
    .map(([status, raw]) => {
      const r = deref(doc, raw);
      const content = Object.entries(r.content ?? {});
      const headers = Object.entries(r.headers ?? {}).map(
        ([h, v]) => `<code>${esc(h)}</code>${deref(doc, v).description ? `: ${inline(deref(doc, v).description)}` : ''}`,
      );
      return `<h3 id="response-${esc(status)}">${esc(status)}</h3>\n<p>${inline(r.description ?? '')}${content.length ? '' : ' No body.'}</p>${headers.length ? `<p>Headers: ${headers.join('; ')}</p>` : ''}${content
        .map(
          ([type, media]) => `<p>Content type <code>${esc(type)}</code>.</p>${media.schema ? schemaTable(doc, media.schema, `${status} body`) : ''}`,
        )
        .join('\n')}`;
    })
    .join('\n');
  // Problems shared through components.responses carry one generic description: say it once, and name
  // each status by its HTTP meaning.
  const shared = problems.filter(([, raw]) => raw.$ref);
  const sharedText = shared.length ? deref(doc, shared[0][1]).description : '';
  const problemRows = problems
    .map(([status, raw]) => {
      const own = raw.$ref ? '' : (deref(doc, raw).description ?? '');
      return `<tr><th scope="row">${esc(status)}</th><td>${esc(REASONS[status] ?? '')}${own ? `${REASONS[status] ? ': ' : ''}${inline(own)}` : ''}</td></tr>`;
    })
    .join('\n');
  const problemHtml = problems.length
    ? `<h3 id="problems">Problems</h3>\n<p>Errors are <code>application/problem+json</code> (RFC 7807) with a <code>request_id</code>; their <code>type</code> names a page under <a href="problems.html">Problems</a>.${sharedText ? ` ${inline(sharedText)}` : ''}</p><div class="table-wrap"><table class="problems"><thead><tr><th scope="col">Status</th><th scope="col">Meaning</th></tr></thead><tbody>\n${problemRows}\n</tbody></table></div>`
    : '';
  return `<h2 id="responses">Responses</h2>\n${okHtml}\n${problemHtml}`;
}

/** HTTP's own names for the statuses problems are listed under (RFC 9110, 6585). */
const REASONS = {
  400: 'Bad request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  '4XX': 'Any other client error',
  '5XX': 'Any other server error',
};

const methodBadge = (m) => `<span class="method method-${m}">${m.toUpperCase()}</span>`;

/** The body of one operation's page. */
export function operationBody(doc, op) {
  const head = op.webhook
    ? `<p class="endpoint">Webhook <code>${esc(op.path)}</code>: Parley sends it as ${methodBadge(op.method)} to your endpoint.</p>`
    : `<p class="endpoint">${methodBadge(op.method)} <code>${esc(op.path)}</code></p>`;
  const curl = op.webhook ? '' : `<h2 id="example">Example</h2>\n<pre><code class="language-sh">${esc(curlExample(doc, op))}</code></pre>`;
  return [
    `<p class="crumbs"><a href="${API_INDEX}.html">API reference</a> › <a href="${API_INDEX}.html#${slugify(op.tag)}">${esc(op.tag)}</a></p>`,
    `<h1 id="${slugify(op.operationId)}">${esc(op.summary ?? op.operationId)}</h1>`,
    head,
    op.description ? `<p>${inline(op.description)}</p>` : '',
    `<p class="operation-id">Operation <code>${esc(op.operationId)}</code>${op.deprecated ? ' · <strong>deprecated</strong>' : ''}</p>`,
    op.webhook ? '' : authSection(doc, op),
    parametersSection(doc, op),
    bodySection(doc, op),
    responsesSection(doc, op),
    curl,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Operations grouped by tag, in the document's tag order, then by first appearance. */
export function byTag(doc, ops) {
  const order = [...(doc.tags ?? []).map((t) => t.name), ...ops.map((o) => o.tag)];
  const described = (tag) =>
    doc.tags?.find((t) => t.name === tag)?.description ??
    (tag === 'Webhooks'
      ? 'The events Parley sends to your endpoints (see [Webhooks](webhooks.html) for signing, retries and verifying them).'
      : undefined);
  return [...new Set(order)].map((tag) => ({ tag, description: described(tag), ops: ops.filter((o) => o.tag === tag) })).filter((g) => g.ops.length);
}

/** The index page: every operation, by tag. */
export function indexBody(doc, ops) {
  const groups = byTag(doc, ops)
    .map(
      ({ tag, description, ops: list }) =>
        `<h2 id="${slugify(tag)}">${esc(tag)}</h2>\n${description ? `<p>${inline(description)}</p>` : ''}<div class="table-wrap"><table class="operations"><tbody>\n${list
          .map(
            (o) =>
              `<tr><td>${methodBadge(o.method)}</td><td><a href="${operationPage(o)}.html"><code>${esc(o.path)}</code></a></td><td>${esc(o.blurb ?? '')}</td></tr>`,
          )
          .join('\n')}\n</tbody></table></div>`,
    )
    .join('\n');
  return `<h1 id="api-reference">API reference</h1>\n<p>Every operation of the Parley HTTP API, generated from its OpenAPI ${esc(doc.openapi ?? '3.1')} document (served at <code>/v1/openapi.json</code>). The examples use <code>$PARLEY_URL</code> for your Parley origin and one environment variable per credential, e.g. <code>$PARLEY_SECRET_KEY</code> for an admin key. Errors are described under <a href="problems.html">Problems</a>; the typed clients are <a href="sdk-node.html">@parley/node</a> and <a href="sdk-browser.html">@parley/browser</a>.</p>\n<p>${ops.length} operations.</p>\n${groups}`;
}

/** Every endpoint page plus the index: [{ name, title, body, group }]. */
export function endpointPages(doc) {
  if (!doc?.openapi?.startsWith('3.1')) throw new Error(`The endpoint reference needs an OpenAPI 3.1 document (got ${doc?.openapi})`);
  const ops = operationsOf(doc);
  return [
    { name: API_INDEX, title: 'API reference', body: indexBody(doc, ops), section: 'API' },
    ...ops.map((op) => ({ name: operationPage(op), title: op.summary ?? op.operationId, body: operationBody(doc, op), section: 'API', tag: op.tag })),
  ];
}
