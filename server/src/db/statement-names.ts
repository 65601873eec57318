// Names for statements prepared once per text, on either database. PostgreSQL parses and plans an
// unnamed statement on every run; a named one, once per connection, which on a turn was over a third of
// the database's CPU. A plan cached so never crosses tenants: row security reads the tenant at each run.

/** More distinct texts than the code has: statements built with varying text run unprepared past this. */
const MAX_PREPARED = 500;
// PostgreSQL refuses a prepared statement whose result columns changed under it (a table altered since).
const PLAN_CHANGED = '0A000';
// Unique in the process, so two drivers on one database never collide.
let named = 0;

export class StatementNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly max = MAX_PREPARED) {}

  /** The name `sql` is prepared under; '' (unnamed: parsed on each run) past the bound. */
  of(sql: string): string {
    let name = this.names.get(sql);
    if (name === undefined) {
      name = this.names.size < this.max ? `parley_${named++}` : '';
      if (name) this.names.set(sql, name);
    }
    return name;
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
