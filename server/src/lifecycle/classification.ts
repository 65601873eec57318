// The protections the classification registry (@parley/protocol CLASSIFICATION, WIRE_FIELDS) drives in
// the server: which field names logs and traces must never carry. One rule, one place: a column classed
// personal, restricted or secret is redacted under its column name and its camelCase name.
import { classifiedColumns, WIRE_FIELDS, type DataClass } from '@parley/protocol';

/** Classes whose values never appear in logs, traces or audit payloads. */
export const UNLOGGABLE: readonly DataClass[] = ['personal', 'restricted', 'secret'];

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

// A bare `id` is every table's key; visitors' ids travel as `visitorId`, which is redacted.
const GENERIC = new Set(['id']);

/** Every field name (snake_case and camelCase) whose value must not be logged or traced. */
export const SENSITIVE_FIELDS: ReadonlySet<string> = new Set([
  ...classifiedColumns()
    .filter((c) => UNLOGGABLE.includes(c.dataClass) && !GENERIC.has(c.column))
    .flatMap((c) => [c.column, camel(c.column)]),
  ...Object.entries(WIRE_FIELDS)
    .filter(([, cls]) => UNLOGGABLE.includes(cls))
    .map(([name]) => name),
]);

/** Whether a field (or the last segment of a dotted attribute key, e.g. `parley.visitor_id`) is sensitive. */
export const isSensitiveField = (key: string): boolean => SENSITIVE_FIELDS.has(key.slice(key.lastIndexOf('.') + 1));
