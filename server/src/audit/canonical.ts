// RFC 8785 (JCS) canonical JSON, and the exact bytes an audit entry is hashed from.

export interface AuditEntryCanonical {
  seq: number;
  ts: string;
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

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value); // ECMAScript number serialisation, as JCS requires
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      // JCS orders keys by UTF-16 code units, which is what the default sort compares.
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
  }
}

export function auditLeafBytes(entry: AuditEntryCanonical): Buffer {
  return Buffer.from(canonicalJson({ v: 1, ...entry }), 'utf8');
}
