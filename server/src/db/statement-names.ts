// Names for statements prepared once per text, on either database. PostgreSQL parses and plans an
// unnamed statement on every run; a named one, once per connection, which on a turn was over a third of
// the database's CPU. A plan cached so never crosses tenants: row security reads the tenant at each run.

/** More distinct texts than the code runs again and again: texts past this run unprepared. */
const MAX_PREPARED = 500;
// Texts seen once, remembered so that a second run prepares them; forgotten all at once past this.
const MAX_SEEN_ONCE = 5000;
// PostgreSQL refuses a prepared statement whose result columns changed under it (a table altered since).
const PLAN_CHANGED = '0A000';
// Unique in the process, so two drivers on one database never collide.
let named = 0;

export class StatementNames {
  private readonly names = new Map<string, string>();
  private readonly once = new Set<string>();

  constructor(private readonly max = MAX_PREPARED) {}

  /**
   * The name `sql` is prepared under; '' (unnamed: parsed on each run) for a text's first run, so that a
   * text built for one occasion never takes one of the bounded names, and for every text past the bound.
   */
  of(sql: string): string {
    const name = this.names.get(sql);
    if (name !== undefined) return name;
    if (this.names.size >= this.max) return '';
    if (!this.once.has(sql)) {
      if (this.once.size >= MAX_SEEN_ONCE) this.once.clear();
      this.once.add(sql);
      return '';
    }
    this.once.delete(sql);
    const fresh = `parley_${named++}`;
    this.names.set(sql, fresh);
    return fresh;
  }

  /**
   * After a statement failed: if the schema changed under it, every statement is prepared again, under
   * new names (the old ones end with their connections), so that a migration costs each statement one
   * failure at most, not one per connection.
   */
  failed(err: unknown): void {
    if ((err as { code?: string }).code === PLAN_CHANGED) this.names.clear();
  }
}
