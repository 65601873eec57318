// Where an `openai-compatible` provider key may be sent. The server makes requests to this URL with the
// tenant's key, so it must not be a way to reach our own network or to smuggle credentials or scripts.
import { BlockList, isIP } from 'node:net';

export class BaseUrlError extends Error {}

// Loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast and reserved ranges.
const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3],
] as const) internal.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  internal.addSubnet(net, prefix, 'ipv6');
}

export function isInternalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const family = isIP(host);
  if (family) return internal.check(host, family === 4 ? 'ipv4' : 'ipv6');
  // Single-label names (`metadata`, `redis`) and local suffixes only resolve inside a network.
  return !host.includes('.') || /\.(localhost|local|internal|localdomain|home\.arpa)\.?$/.test(host);
}

/**
 * Checks and normalises a base URL: http(s) only, no credentials, query or fragment; outside
 * development https only and no internal hosts. Returns the URL without a trailing slash.
 */
export function checkBaseUrl(raw: string, env: 'development' | 'staging' | 'production'): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BaseUrlError('must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BaseUrlError('must be an http(s) URL');
  if (url.username || url.password || raw.includes('@')) throw new BaseUrlError('must not contain credentials; send the key as apiKey');
  if (url.search || url.hash || /[?#]/.test(raw)) throw new BaseUrlError('must not contain a query or fragment');
  if (env !== 'development') {
    if (url.protocol !== 'https:') throw new BaseUrlError('must use https');
    if (isInternalHost(url.hostname)) throw new BaseUrlError('must be a public host');
  }
  return url.href.replace(/\/+$/, '');
}
