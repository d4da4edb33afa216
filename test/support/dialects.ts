import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, postgresAvailable } from './postgres.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * The dialect loop: every store-backed suite runs once per database. `fresh()` gives an isolated
 * database (a new SQLite file, or a new PostgreSQL database) and a data dir, and cleans both up.
 */
export interface DialectTarget {
  dialect: Dialect;
  fresh(): Promise<FreshDatabase>;
}

export interface FreshDatabase {
  databaseUrl: string;
  dataDir: string;
  /** SQLite file path, for tests that read the raw bytes. */
  sqliteFile?: string;
  cleanup(): Promise<void>;
}

export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export async function dialectEnabled(dialect: Dialect): Promise<boolean> {
  return dialect === 'sqlite' ? true : postgresAvailable();
}

export function tempDir(prefix = 'mw-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freshDatabase(dialect: Dialect): Promise<FreshDatabase> {
  const dataDir = tempDir();
  if (dialect === 'sqlite') {
    const file = path.join(dataDir, 'meterwatch.db');
    return {
      databaseUrl: `sqlite:${file}`,
      dataDir,
      sqliteFile: file,
      cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const db = await createTestDatabase();
  return {
    databaseUrl: db.url,
    dataDir,
    cleanup: async () => {
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
