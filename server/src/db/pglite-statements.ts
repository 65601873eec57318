// The embedded database's statements, prepared once per text. In WASM, parsing and planning a statement
// can cost several times what running it does (a turn's message insert: about 0.6-0.8 ms unprepared,
// 0.2 ms prepared), and PGlite's query() does both on every call, entering the database once per protocol
// step and once more to ask for the parameters' types. Here a statement is parsed once, then each run is
// one protocol message (Bind, Describe, Execute, Sync), its parameters sent as text for the server to
// type, as node-postgres sends them to a PostgreSQL server.
import { type PGlite, parse, protocol, type Results } from '@electric-sql/pglite';
import { paramText, TX_OVER } from './driver.js';
import { StatementNames } from './statement-names.js';

export class PreparedStatements {
  private readonly names: StatementNames;
  // The names parsed on this database (a Parse that failed leaves none).
  private readonly parsed = new Set<string>();

  constructor(
    private readonly pg: PGlite,
    max?: number,
  ) {
    this.names = new StatementNames(max);
  }

  /**
   * `over`, when given, is asked once the statement has the database to itself: true refuses it (its
   * transaction has ended, or is ending, and what runs next would run outside it).
   */
  run<R>(sql: string, params: readonly unknown[] = [], over?: () => boolean): Promise<Results<R>> {
    const { serialize } = protocol;
    // The protocol methods share the query lock's state without taking it: runExclusive takes that lock
    // (and only it, so this runs inside a transaction, which holds the other one).
    return this.pg.runExclusive(async () => {
      if (over?.()) throw new Error(TX_OVER);
      const name = this.names.of(sql);
      if (!this.parsed.has(name)) {
        // Parsed on its own the first time, so that it counts as parsed only once it exists.
        await this.send([serialize.parse({ text: sql, name }), serialize.sync()]);
        if (name) this.parsed.add(name);
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
        this.names.failed(err);
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
