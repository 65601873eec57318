// Where an `openai-compatible` provider key may be sent. The server makes requests to this URL with the
// tenant's key, so it must not be a way to reach our own network or to smuggle credentials or scripts.
// Which hosts are public is the outbound module's rule; this adds what a base URL must not carry.
import { OutboundError, type Outbound } from '../../outbound/outbound.js';

export class BaseUrlError extends Error {}

/**
 * Checks and normalises a base URL: http(s) only, no credentials, query or fragment; outside
 * development https only; public hosts only (or those the operator allowed). Returns the URL without a
 * trailing slash. Requests to it go through the outbound module, which checks again at connect time.
 */
export function checkBaseUrl(raw: string, outbound: Outbound): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BaseUrlError('must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BaseUrlError('must be an http(s) URL');
  if (url.username || url.password || raw.includes('@')) throw new BaseUrlError('must not contain credentials; send the key as apiKey');
  if (url.search || url.hash || /[?#]/.test(raw)) throw new BaseUrlError('must not contain a query or fragment');
  try {
    outbound.check(url);
  } catch (err) {
    if (err instanceof OutboundError) throw new BaseUrlError(err.message);
    throw err;
  }
  return url.href.replace(/\/+$/, '');
}
