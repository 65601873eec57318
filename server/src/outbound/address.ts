// Which addresses and host names are public. One table for the whole server: a destination is public
// only if nothing here names it. IPv4 follows the IANA special-purpose registry; IPv6 is public only in
// global unicast (2000::/3) outside its special blocks, so every mapped, compatible, translated,
// unique-local, link-local, site-local and multicast form is refused by construction. Addresses that
// embed an IPv4 address (NAT64, 6to4) are as public as the address they embed.
import { isIP } from 'node:net';

type Range = readonly [bytes: number[], prefix: number, name: string];

const V4: Range[] = [
  [[0, 0, 0, 0], 8, 'a "this network" address'],
  [[10, 0, 0, 0], 8, 'a private address'],
  [[100, 64, 0, 0], 10, 'a shared (carrier-grade NAT) address'],
  [[127, 0, 0, 0], 8, 'a loopback address'],
  [[169, 254, 0, 0], 16, 'a link-local (cloud metadata) address'],
  [[172, 16, 0, 0], 12, 'a private address'],
  [[192, 0, 0, 0], 24, 'an IETF protocol address'],
  [[192, 0, 2, 0], 24, 'a documentation address'],
  [[192, 88, 99, 0], 24, 'a 6to4 relay address'],
  [[192, 168, 0, 0], 16, 'a private address'],
  [[198, 18, 0, 0], 15, 'a benchmarking address'],
  [[198, 51, 100, 0], 24, 'a documentation address'],
  [[203, 0, 113, 0], 24, 'a documentation address'],
  [[224, 0, 0, 0], 4, 'a multicast address'],
  [[240, 0, 0, 0], 4, 'a reserved address'],
];

const V6_OUTSIDE_GLOBAL: Range[] = [
  [v6('::'), 128, 'the unspecified address'],
  [v6('::1'), 128, 'a loopback address'],
  [v6('::ffff:0:0'), 96, 'an IPv4-mapped address'],
  [v6('::'), 96, 'an IPv4-compatible address'],
  [v6('::ffff:0:0:0'), 96, 'an IPv4-translated address'],
  [v6('64:ff9b:1::'), 48, 'a local-use NAT64 address'],
  [v6('100::'), 64, 'a discard-only address'],
  [v6('fc00::'), 7, 'a unique-local (private) address'],
  [v6('fe80::'), 10, 'a link-local address'],
  [v6('fec0::'), 10, 'a site-local address'],
  [v6('ff00::'), 8, 'a multicast address'],
];

const V6_SPECIAL_GLOBAL: Range[] = [
  [v6('2001:db8::'), 32, 'a documentation address'],
  [v6('2001::'), 23, 'an IETF protocol address (Teredo, benchmarking, ORCHID)'],
  [v6('3fff::'), 20, 'a documentation address'],
];

const NAT64 = v6('64:ff9b::');
const SIX_TO_FOUR = v6('2002::');
const GLOBAL_UNICAST = v6('2000::');

function v4(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** The 16 bytes of a valid IPv6 address (with or without an embedded dotted IPv4 tail). */
function v6(ip: string): number[] {
  let s = ip.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const [a, b, c, d] = v4(tail[1]!);
    s = s.slice(0, tail.index) + ((a! << 8) | b!).toString(16) + ':' + ((c! << 8) | d!).toString(16);
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

function within(bytes: number[], net: number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const i = bit >> 3;
    const bits = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

const find = (bytes: number[], table: Range[]) => table.find(([net, prefix]) => within(bytes, net, prefix))?.[2] ?? null;

function classifyV4(bytes: number[]): string | null {
  return find(bytes, V4);
}

function classifyV6(bytes: number[]): string | null {
  if (within(bytes, NAT64, 96)) {
    const inner = classifyV4(bytes.slice(12));
    return inner && `a NAT64 address of ${inner}`;
  }
  if (!within(bytes, GLOBAL_UNICAST, 3)) return find(bytes, V6_OUTSIDE_GLOBAL) ?? 'a reserved address';
  if (within(bytes, SIX_TO_FOUR, 16)) {
    const inner = classifyV4(bytes.slice(2, 6));
    return inner && `a 6to4 address of ${inner}`;
  }
  return find(bytes, V6_SPECIAL_GLOBAL);
}

/** An IP literal without brackets, or null for anything that is not one. */
export function ipLiteral(host: string): { address: string; family: 4 | 6 } | null {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(h);
  return family === 4 || family === 6 ? { address: h, family } : null;
}

/**
 * Why an IP address is not public (e.g. "a loopback address"), or null when it is. Anything that is not
 * an IP address at all is refused too.
 */
export function nonPublicAddress(address: string): string | null {
  const ip = ipLiteral(address);
  if (!ip) return 'not an IP address';
  if (ip.family === 4) return classifyV4(v4(ip.address));
  // A zone index (fe80::1%eth0) only ever goes with link-local addresses; the bytes decide.
  return classifyV6(v6(ip.address.replace(/%.*$/, '')));
}

/** Does an IP address lie in a CIDR (both of the same family)? */
export function inCidr(address: string, cidr: Cidr): boolean {
  const ip = ipLiteral(address);
  if (!ip || ip.family !== cidr.family) return false;
  return within(ip.family === 4 ? v4(ip.address) : v6(ip.address.replace(/%.*$/, '')), cidr.bytes, cidr.prefix);
}

export interface Cidr {
  family: 4 | 6;
  bytes: number[];
  prefix: number;
  /** As written, normalised (for messages and logs). */
  text: string;
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a bare address (a /32 or /128); null if it is not one. */
export function parseCidr(raw: string): Cidr | null {
  const m = /^([^/]+?)(?:\/(\d{1,3}))?$/.exec(raw.trim());
  if (!m) return null;
  const ip = ipLiteral(m[1]!);
  if (!ip || ip.address.includes('%')) return null;
  const max = ip.family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return null;
  return { family: ip.family, bytes: ip.family === 4 ? v4(ip.address) : v6(ip.address), prefix, text: `${ip.address.toLowerCase()}/${prefix}` };
}

// Names that only mean something inside a network: cloud metadata services, cluster DNS, mDNS and the
// local suffixes people give private zones.
const LOCAL_NAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'kubernetes.default',
  'kubernetes.default.svc',
]);
const LOCAL_SUFFIXES = [
  '.localhost',
  '.local',
  '.localdomain',
  '.internal',
  '.intranet',
  '.lan',
  '.home',
  '.corp',
  '.private',
  '.home.arpa',
  '.arpa',
  '.svc',
];

/** A host name as compared: lower case, without the trailing dots that make it fully qualified. */
export function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.+$/, '');
}

/**
 * Why a host name (not an IP literal) cannot be public, or null when it may be (its addresses decide).
 * Single-label names resolve only through a local search domain.
 */
export function nonPublicName(host: string): string | null {
  const h = normaliseHost(host);
  if (!h) return 'an empty host name';
  if (LOCAL_NAMES.has(h)) return h === 'localhost' ? 'a loopback name' : 'an internal (metadata or cluster) name';
  if (!h.includes('.')) return 'a single-label (internal) name';
  if (LOCAL_SUFFIXES.some((s) => h.endsWith(s))) return 'an internal name';
  return null;
}
