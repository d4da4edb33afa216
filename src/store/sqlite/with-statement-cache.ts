import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely's SQLite driver prepares every query again; preparing costs about as much as running a
 * small insert. The hot paths repeat the same SQL text, so prepared statements are kept in a small
 * LRU keyed by the text. better-sqlite3 is synchronous and a statement is finished before the next
 * call, so sharing one is safe.
 */
export function withStatementCache(database: BetterSqlite3.Database, max = 512): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
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
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement as unknown as SqliteStatement;
    },
  };
}
