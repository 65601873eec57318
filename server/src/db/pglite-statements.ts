// The embedded database's statements, prepared once per text. In WASM, parsing and planning a statement
// can cost several times what running it does (a turn's message insert: about 0.6-0.8 ms unprepared,
// 0.2 ms prepared), and PGlite's query() does both on every call, entering the database once per protocol
// step and once more to ask for the parameters' types. Here a statement is parsed once, then each run is
// one protocol message (Bind, Describe, Execute, Sync), its parameters sent as text for the server to
// type, as node-postgres sends them to a PostgreSQL server.
import { type PGlite, parse, protocol, type Results } from '@electric-sql/pglite';
import { paramText } from './driver.js';

/** More distinct texts than the code has: statements built with varying text run unprepared past this. */
const MAX_PREPARED = 500;
// PostgreSQL refuses a prepared statement whose result columns changed under it (a table altered since).
const PLAN_CHANGED = '0A000';
// Names are unique in the process, so two of these on one database never collide.
let named = 0;

export class PreparedStatements {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly pg: PGlite,
    private readonly max = MAX_PREPARED,
  ) {}

  run<R>(sql: string, params: readonly unknown[] = []): Promise<Results<R>> {
    const { serialize } = protocol;
    // The protocol methods share the query lock's state without taking it: runExclusive takes that lock
    // (and only it, so this runs inside a transaction, which holds the other one).
    return this.pg.runExclusive(async () => {
      let name = this.names.get(sql);
      if (name === undefined) {
        // Parsed on its own the first time, so that it is named only once it exists.
        name = this.names.size < this.max ? `parley_${named++}` : '';
        await this.send([serialize.parse({ text: sql, name }), serialize.sync()]);
        if (name) this.names.set(sql, name);
      }
      try {
        const messages = await this.send([
          serialize.bind({ statement: name, values: params.map(paramText) }),
          serialize.describe({ type: 'P' }),
          serialize.execute({}),
          serialize.sync(),
        ]);
        return parse.parseResults(messages, this.pg.parsers)[0] as Results<R>;
      } catch (err) {
        // Prepared again, under a new name, next time.
        if ((err as { code?: string }).code === PLAN_CHANGED) this.names.delete(sql);
        throw err;
      }
    });
  }

  private send(parts: Uint8Array[]) {
    const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (message.set(p, at), at + p.length), 0);
    return this.pg.execProtocolStream(message, { syncToFs: false });
  }
}
