// Plain SQL migrations from server/migrations, applied in name order in one owner transaction.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Tx } from './types.js';

// Same relative location from src/db and dist/db.
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_KEY = 0x7061726c; // "parl": serialises concurrent migrators on a server

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(dir + name, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Applies pending migrations; returns the names applied. Refuses if an applied file was edited since. */
export async function migrate(tx: Tx, migrations = loadMigrations()): Promise<string[]> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
  await tx.query(`CREATE TABLE IF NOT EXISTS parley_migrations (
    name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await tx.query<{ name: string; checksum: string }>('SELECT name, checksum FROM parley_migrations');
  const applied = new Map(rows.map((r) => [r.name, r.checksum]));
  const done: string[] = [];
  for (const m of migrations) {
    const previous = applied.get(m.name);
    if (previous) {
      if (previous !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
      continue;
    }
    await tx.exec(m.sql);
    await tx.query('INSERT INTO parley_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
    done.push(m.name);
  }
  return done;
}
