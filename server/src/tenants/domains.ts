// Allowed embedding domains: exact hosts, `*.example.com` (subdomains only, never the apex), explicit
// ports, optional scheme. Without a scheme only https matches, except on loopback hosts, which accept
// both and any port unless one is given — and loopback is refused in production.

export interface DomainPattern {
  scheme: 'https' | 'http' | null;
  wildcard: boolean;
  /** ASCII (punycode) host without the `*.` */
  host: string;
  port: number | null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export class DomainPatternError extends Error {}

export function parsePattern(input: string, env: 'development' | 'staging' | 'production'): DomainPattern {
  let rest = input.trim().toLowerCase();
  let scheme: DomainPattern['scheme'] = null;
  const m = /^(https?):\/\//.exec(rest);
  if (m) {
    scheme = m[1] as 'http' | 'https';
    rest = rest.slice(m[0].length);
  }
  rest = rest.replace(/\/$/, '');
  if (/[/?#@\s]/.test(rest)) throw new DomainPatternError('a domain is a host with an optional port, not a URL with a path');
  const wildcard = rest.startsWith('*.');
  if (wildcard) rest = rest.slice(2);
  if (rest.includes('*')) throw new DomainPatternError('a wildcard is only allowed as the first label, as in *.example.com');
  let url: URL;
  try {
    url = new URL(`http://${rest}`);
  } catch {
    throw new DomainPatternError('not a valid host');
  }
  const host = url.hostname;
  const port = url.port ? Number(url.port) : /:80$/.test(rest) ? 80 : null;
  const loopback = LOOPBACK.has(host);
  if (loopback && env === 'production') throw new DomainPatternError('localhost is not allowed in production');
  if (loopback && wildcard) throw new DomainPatternError('a wildcard cannot apply to a loopback host');
  if (scheme === 'http' && env === 'production' && !loopback) throw new DomainPatternError('http:// origins are not allowed in production');
  if (!loopback) {
    const labels = host.split('.');
    if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) throw new DomainPatternError('not a valid public host name');
    if (/^\d+$/.test(labels.at(-1)!)) throw new DomainPatternError('use a host name, not an IP address');
  }
  return { scheme, wildcard, host, port };
}

export function formatPattern(p: DomainPattern): string {
  return `${p.scheme ? `${p.scheme}://` : ''}${p.wildcard ? '*.' : ''}${p.host}${p.port !== null ? `:${p.port}` : ''}`;
}

/** Whether a browser Origin header value is allowed by one of the patterns. */
export function originAllowed(origin: string | undefined, patterns: DomainPattern[]): boolean {
  if (!origin || origin === 'null') return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin.replace(/\/$/, '') && url.origin !== origin) return false; // no paths or credentials
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'https' && scheme !== 'http') return false;
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const host = url.hostname;
  return patterns.some((p) => {
    const loopback = LOOPBACK.has(p.host);
    if (p.scheme ? p.scheme !== scheme : !loopback && scheme !== 'https') return false;
    const hostOk = p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host;
    if (!hostOk) return false;
    if (p.port !== null) return port === p.port;
    return loopback || port === (scheme === 'https' ? 443 : 80);
  });
}
