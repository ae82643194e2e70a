import type { Database } from '../db/database.js';

/**
 * Derived tables (scans, anomalies, ...) are real tables in a writable database, so `--db FILE` keeps
 * them for later `tcplens query`; a database opened read-only gets them as TEMP tables of the session.
 */
export async function createDerivedTable(db: Database, name: string, select: string): Promise<void> {
  await db.query(`CREATE OR REPLACE ${db.readOnly ? 'TEMP ' : ''}TABLE ${name} AS ${select}`);
}

/** An empty derived table with the given column definitions, to be filled with INSERTs. */
export async function createEmptyDerivedTable(db: Database, name: string, columns: string): Promise<void> {
  await db.query(`CREATE OR REPLACE ${db.readOnly ? 'TEMP ' : ''}TABLE ${name} (${columns})`);
}
