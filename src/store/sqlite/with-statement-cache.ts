import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { acquireWriteTurn, releaseWriteTurn } from './write-turn.js';

/** A background writer's place in the process's write turn (write-turn.ts); intake goes first. */
export interface BackgroundWriteTurn {
  buffer: SharedArrayBuffer;
  /** How long to wait for the turn before going ahead on SQLite's busy timeout alone. */
  timeoutMs: number;
}

/**
 * Kysely's SQLite driver prepares every query again; preparing costs about as much as running a
 * small insert. The hot paths repeat the same SQL text, so prepared statements are kept in a small
 * LRU keyed by the text. better-sqlite3 is synchronous and a statement is finished before the next
 * call, so sharing one is safe.
 */
export function withStatementCache(database: BetterSqlite3.Database, max = 512, turn?: BackgroundWriteTurn): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const withTurns = turn ? turnTaking(database, turn) : undefined;
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(text: string): SqliteStatement {
      // Kysely opens transactions with a plain (deferred) BEGIN. With a second writer on the file
      // (the detector worker's connection), a deferred transaction that reads before it writes fails
      // with SQLITE_BUSY at once, without the busy timeout, when the other connection committed in
      // between. BEGIN IMMEDIATE takes the write lock up front and waits its turn instead.
      const sql = text === 'begin' ? 'begin immediate' : text;
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (withTurns) statement = withTurns(sql, statement);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement as unknown as SqliteStatement;
    },
  };
}

/**
 * Statements of a background connection that take the write turn while they hold SQLite's write
 * lock: a transaction from BEGIN IMMEDIATE to whichever of COMMIT or ROLLBACK ends it (after a failed
 * COMMIT the transaction is still open and Kysely's ROLLBACK follows), and a writing statement run
 * outside a transaction for its own duration. Reads never lock in WAL mode and are left alone.
 */
function turnTaking(database: BetterSqlite3.Database, turn: BackgroundWriteTurn): (sql: string, statement: BetterSqlite3.Statement) => BetterSqlite3.Statement {
  const slots = new Int32Array(turn.buffer, 0, 2);
  let held = false;
  const take = () => {
    if (!held) held = acquireWriteTurn(slots, false, turn.timeoutMs);
  };
  const give = () => {
    if (!held) return;
    held = false;
    releaseWriteTurn(slots);
  };
  const around = <A extends unknown[], R>(fn: (...a: A) => R) =>
    function (this: unknown, ...args: A): R {
      if (database.inTransaction) return fn(...args);
      take();
      try {
        return fn(...args);
      } finally {
        give();
      }
    };
  return (sql, statement) => {
    if (sql === 'begin immediate') {
      const run = statement.run.bind(statement);
      return facade(statement, {
        run: (...args: unknown[]) => {
          take();
          try {
            return run(...args);
          } catch (error) {
            give();
            throw error;
          }
        },
      });
    }
    if (sql === 'commit' || sql === 'rollback') {
      const run = statement.run.bind(statement);
      return facade(statement, {
        run: (...args: unknown[]) => {
          try {
            return run(...args);
          } finally {
            if (sql === 'rollback' || !database.inTransaction) give();
          }
        },
      });
    }
    if (statement.readonly) return statement;
    return facade(statement, {
      run: around(statement.run.bind(statement)),
      all: around(statement.all.bind(statement)),
      get: around(statement.get.bind(statement)),
    });
  };
}

/** What Kysely's driver uses of a statement (its accessors only work on the native object itself). */
function facade(statement: BetterSqlite3.Statement, methods: Partial<Pick<BetterSqlite3.Statement, 'run' | 'all' | 'get'>>): BetterSqlite3.Statement {
  return {
    reader: statement.reader,
    readonly: statement.readonly,
    source: statement.source,
    run: statement.run.bind(statement),
    all: statement.all.bind(statement),
    get: statement.get.bind(statement),
    iterate: statement.iterate.bind(statement),
    ...methods,
  } as unknown as BetterSqlite3.Statement;
}
