import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { INSERT_ONE_EVENT_SQL, KyselyStore } from '../kysely-store.js';
import { startEventWriterThread, type EventWriterThread } from './event-writer-thread.js';
import { withStatementCache } from './with-statement-cache.js';
import { createWriteTurnBuffer } from './write-turn.js';
import { TurnTakingSqliteDialect } from './turn-taking-dialect.js';
import { startCheckpointWorker, type CheckpointWorker } from './checkpoint-worker.js';
import { WAL_CHECKPOINT_SETTINGS } from './wal-checkpointer.js';

export interface SqliteStoreOptions {
  file: string;
  onError?: (operation: string, error: unknown) => void;
  /**
   * Helper threads (WAL checkpoints, webhook inserts) for a file database; default true. A second
   * store opened on the same file by another thread of this process passes false: one set is enough.
   */
  helperThreads?: boolean;
  /**
   * The WAL checkpoints run on a thread the caller hosts them on (the detector worker, through
   * hosted-checkpoints.ts) instead of a checkpoint thread of this store's: one V8 isolate less.
   */
  hostedCheckpoints?: boolean;
  /**
   * A store on another thread of this process that writes in the background (the detector worker):
   * its transactions take the write turn of the main store's event writer and let intake go first.
   */
  backgroundWriteTurn?: { buffer: SharedArrayBuffer; timeoutMs: number };
}

/**
 * The embedded default: one connection, hence one writer, in WAL mode. `synchronous=NORMAL` in WAL
 * keeps every commit safe from a process crash (what "durable before the 2xx" guards against) and
 * only an OS crash or power loss can drop the last commits; see docs/STORAGE.md.
 */
export function createSqliteStore(options: SqliteStoreOptions): KyselyStore {
  if (options.file !== ':memory:') fs.mkdirSync(path.dirname(options.file), { recursive: true });
  const database = new BetterSqlite3(options.file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  let checkpoints: CheckpointWorker | undefined;
  let eventWriter: EventWriterThread | undefined;
  let writeTurn: SharedArrayBuffer | undefined;
  // Checkpoints run in a worker thread (see checkpoint-worker.ts); a high autocheckpoint on every
  // connection to the file is only the safety net, so no commit checkpoints inline.
  if (options.file !== ':memory:') database.pragma('wal_autocheckpoint = 20000');
  if (options.file !== ':memory:' && options.helperThreads !== false) {
    writeTurn = createWriteTurnBuffer();
    if (!options.hostedCheckpoints) {
      checkpoints = startCheckpointWorker({ file: options.file, ...WAL_CHECKPOINT_SETTINGS, writeTurn }, (error) => options.onError?.('checkpoint', error));
    }
    eventWriter = startEventWriterThread({ file: options.file, insertSql: INSERT_ONE_EVENT_SQL, busyTimeoutMs: 5000, writeTurn });
  }
  const statements = withStatementCache(database, 512);
  // With helper threads writing to the file (this store's own, or the main store's when this one
  // is the detector worker's), writes take the process's write turn (turn-taking-dialect.ts).
  const turn = writeTurn ? { buffer: writeTurn, timeoutMs: 5000 } : options.backgroundWriteTurn;
  const dialect = turn
    ? new TurnTakingSqliteDialect(statements, {
        ...turn,
        inTransaction: () => database.inTransaction,
        writes: (text) => !(statements.prepare(text) as unknown as BetterSqlite3.Statement).readonly,
      })
    : new SqliteDialect({ database: statements });
  const db = new Kysely<Database>({ dialect });
  // Snapshot reads (replay) go through their own read-only connection: a WAL reader sees one
  // consistent state and never holds up the single writer. An in-memory database has no file to share.
  const openSnapshot = options.file === ':memory:' ? undefined : () => {
    const reader = new BetterSqlite3(options.file, { readonly: true, fileMustExist: true });
    reader.pragma('busy_timeout = 5000');
    const snapshotDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: reader }) });
    return { db: snapshotDb, close: () => snapshotDb.destroy() };
  };
  return new KyselyStore(db, {
    dialect: 'sqlite',
    ...(options.onError ? { onError: options.onError } : {}),
    ...(openSnapshot ? { openSnapshot } : {}),
    ...(eventWriter ? { eventWriter } : {}),
    ...(writeTurn ? { writeTurn } : {}),
    afterClose: async () => {
      await eventWriter?.stop();
      await checkpoints?.stop();
    },
  });
}
