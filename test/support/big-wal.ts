import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export interface BigWal {
  dir: string;
  file: string;
  /** A connection of the test's, in WAL mode, with no autocheckpoint: only the code under test checkpoints. */
  writer: BetterSqlite3.Database;
}

/** A fresh SQLite file whose WAL holds ~3,000 uncheckpointed rows (a few MB). */
export function bigWal(prefix: string): BigWal {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, 'db.sqlite');
  const writer = new BetterSqlite3(file);
  writer.pragma('journal_mode = WAL');
  writer.pragma('wal_autocheckpoint = 0');
  writer.exec('create table t (id integer primary key, v text)');
  const insert = writer.prepare('insert into t (v) values (?)');
  writer.transaction(() => {
    for (let i = 0; i < 3_000; i++) insert.run('y'.repeat(400));
  })();
  return { dir, file, writer };
}

/** Frames in the WAL after one more commit: small once a RESTART let the WAL start over. */
export function framesAfterOneWrite(db: BetterSqlite3.Database): number {
  db.prepare('insert into t (v) values (?)').run('x'.repeat(100));
  // A PASSIVE checkpoint reports the WAL's frame count (and copies what it can, which is harmless).
  return (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
}
