// RFC 8785 (JCS) canonical JSON, and the exact bytes an audit entry is hashed from. Whatever a leaf
// hash is computed from must be recomputable, byte for byte, from the stored row years later: so
// anything that is not plain JSON data is refused here rather than serialised lossily.

export interface AuditEntryCanonical {
  /** 0-based leaf index in this tenant's log. */
  seq: number;
  /** ISO-8601 UTC with milliseconds, as Date#toISOString() writes it. */
  ts: string;
  /** The platform log uses 00000000-0000-0000-0000-000000000000. */
  tenantId: string;
  requestId: string | null;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  policyVersion: number;
  source: string;
  reason: string | null;
  metadata: Record<string, unknown>;
}

/** The version of the leaf encoding; a new field or rule gets a new number, never a silent change. */
const LEAF_VERSION = 1;

// In a `u` regex a surrogate pair is one code point, so this matches only unpaired halves, which
// I-JSON (required by RFC 8785 §3.1) forbids and which do not survive a trip through UTF-8.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const ISO_UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// Characters RFC 8785 §3.2.2.2 escapes (quote, backslash, controls), plus surrogates to check.
const NEEDS_CARE = /["\\\u0000-\u001F\uD800-\uDFFF]/;

function encodeString(s: string): string {
  // Most strings (ids, actions, hashes) need no escaping; skipping JSON.stringify for them is the
  // difference between hashing an entry and serialising it twice over.
  if (!NEEDS_CARE.test(s)) return `"${s}"`;
  if (LONE_SURROGATE.test(s)) throw new TypeError('canonical JSON strings must be well-formed Unicode');
  // JSON.stringify's escaping (ES2019+) is exactly RFC 8785 §3.2.2.2.
  return JSON.stringify(s);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function encode(value: unknown, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      // ECMAScript Number#toString, which RFC 8785 §3.2.2.3 adopts (and -0 becomes 0).
      return String(value);
    case 'string':
      return encodeString(value);
    case 'object': {
      if (ancestors.has(value)) throw new TypeError('canonical JSON cannot encode a cycle');
      ancestors.add(value);
      let out: string;
      if (Array.isArray(value)) {
        // A missing element reads back as null from the stored JSON, so it is hashed as null.
        out = `[${Array.from(value, (v) => encode(v === undefined ? null : v, ancestors)).join(',')}]`;
      } else {
        if (!isPlainObject(value)) {
          throw new TypeError(`canonical JSON encodes plain objects only, not ${value.constructor?.name ?? 'this object'}`);
        }
        const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
        // RFC 8785 §3.2.3 sorts by UTF-16 code units, which is what string comparison in JavaScript does.
        keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        out = `{${keys.map((k) => `${encodeString(k)}:${encode((value as Record<string, unknown>)[k], ancestors)}`).join(',')}}`;
      }
      ancestors.delete(value);
      return out;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
  }
}

/** RFC 8785 canonical JSON of a JSON value; properties whose value is undefined are left out. */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set());
}

/** The leaf input of an audit entry: UTF-8 of canonicalJson({ v: 1, ...entry }). */
export function auditLeafBytes(entry: AuditEntryCanonical): Buffer {
  if (!Number.isSafeInteger(entry.seq) || entry.seq < 0) throw new TypeError('seq must be a non-negative integer');
  if (!ISO_UTC_MILLIS.test(entry.ts)) throw new TypeError('ts must be an ISO-8601 UTC time with milliseconds');
  // Named fields only: a caller passing a wider object (say, with its leaf hash) must not change the bytes.
  const leaf = {
    v: LEAF_VERSION,
    seq: entry.seq,
    ts: entry.ts,
    tenantId: entry.tenantId,
    requestId: entry.requestId,
    actor: { type: entry.actor.type, id: entry.actor.id },
    action: entry.action,
    target: entry.target === null ? null : { type: entry.target.type, id: entry.target.id },
    policyVersion: entry.policyVersion,
    source: entry.source,
    reason: entry.reason,
    metadata: entry.metadata,
  };
  return Buffer.from(canonicalJson(leaf), 'utf8');
}
