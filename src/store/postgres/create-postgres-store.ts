import { createRequire } from 'node:module';
import type PgModule from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../schema.js';
import { KyselyStore } from '../kysely-store.js';

export interface PostgresStoreOptions {
  url: string;
  poolSize?: number;
  onError?: (operation: string, error: unknown) => void;
}

const INT8_OID = 20;

/** int8 columns hold epoch milliseconds and sequence numbers: exact as JS numbers up to 2^53. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${value} exceeds the safe integer range`);
  return n;
}

// Loaded on first use: a server on the embedded SQLite default never pays for the driver (~10 MB resident).
let pgModule: typeof PgModule | undefined;
const loadPg = (): typeof PgModule => (pgModule ??= createRequire(import.meta.url)('pg') as typeof PgModule);

export function createPostgresStore(options: PostgresStoreOptions): KyselyStore {
  const pg = loadPg();
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', (error) => options.onError?.('pool', error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, { dialect: 'postgres', ...(options.onError ? { onError: options.onError } : {}) });
}
