import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { startCheckpointWorker, type CheckpointWorker } from '../../src/store/sqlite/checkpoint-worker.js';
import { createWriteTurnBuffer, releaseWriteTurn } from '../../src/store/sqlite/write-turn.js';
import { until } from '../support/until.js';

const HELD = 0;
const INTAKE_WAITING = 1;

describe('sqlite checkpoint worker', () => {
  let dir: string | undefined;
  let worker: CheckpointWorker | undefined;
  let writer: BetterSqlite3.Database | undefined;

  afterEach(async () => {
    await worker?.stop();
    writer?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    worker = writer = dir = undefined;
  });

  /** Frames in the WAL after one more commit: small once a RESTART let the WAL start over. */
  const framesAfterOneWrite = (db: BetterSqlite3.Database) => {
    db.prepare('insert into t (v) values (?)').run('x'.repeat(100));
    // A PASSIVE checkpoint reports the WAL's frame count (and copies what it can, which is harmless).
    return (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
  };

  function bigWal(): string {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-ckpt-'));
    const file = path.join(dir, 'db.sqlite');
    writer = new BetterSqlite3(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('create table t (id integer primary key, v text)');
    const insert = writer.prepare('insert into t (v) values (?)');
    writer.transaction(() => {
      for (let i = 0; i < 3_000; i++) insert.run('y'.repeat(400));
    })();
    return file;
  }

  /** Starts the worker on `file` (ticking every 10 ms) while another writer of the process holds the turn. */
  function startWhileTurnHeld(file: string, restartFrames: number): Int32Array {
    const buffer = createWriteTurnBuffer();
    const slots = new Int32Array(buffer, 0, 2);
    Atomics.store(slots, HELD, 1);
    worker = startCheckpointWorker({ file, intervalMs: 10, restartFrames, restartWaitMs: 20, quickPassMs: 5, writeTurn: buffer }, (error) => {
      throw error;
    });
    return slots;
  }

  it('takes the write turn, as intake, for a RESTART once the WAL outgrew the threshold, and gives it back', async () => {
    // Another writer of the process holds the turn: the worker must wait for it, first in line.
    const slots = startWhileTurnHeld(bigWal(), 100);
    await until(() => Atomics.load(slots, INTAKE_WAITING) === 1);
    releaseWriteTurn(slots);
    await until(() => Atomics.load(slots, INTAKE_WAITING) === 0 && Atomics.load(slots, HELD) === 0);
    // Everything was copied back: the next write starts the WAL over from its first frames.
    expect(framesAfterOneWrite(writer!)).toBeLessThan(10);
    expect(Atomics.load(slots, HELD)).toBe(0);
  });

  it('leaves the turn alone while the WAL stays under the threshold (PASSIVE checkpoints only)', async () => {
    const file = bigWal();
    const slots = startWhileTurnHeld(file, 1_000_000);
    // The worker's PASSIVE checkpoints copy the WAL's pages into the database file, without the turn.
    await until(() => fs.statSync(file).size > 1_000_000);
    expect(Atomics.load(slots, INTAKE_WAITING)).toBe(0);
    expect(Atomics.load(slots, HELD)).toBe(1);
  });
});
