import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { startHostedCheckpoints, type HostedCheckpoints } from '../../src/store/sqlite/hosted-checkpoints.js';
import { createWriteTurnBuffer, releaseWriteTurn } from '../../src/store/sqlite/write-turn.js';
import { until } from '../support/until.js';

const HELD = 0;
const INTAKE_WAITING = 1;

/**
 * The WAL checkpoints hosted by a thread that does store work of its own (the detector worker):
 * they wait for the host's operations to end, and they wait for the write turn without blocking the
 * host's event loop.
 */
describe('sqlite checkpoints hosted by another thread', () => {
  let dir: string | undefined;
  let hosted: HostedCheckpoints | undefined;
  let writer: BetterSqlite3.Database | undefined;
  const errors: unknown[] = [];

  afterEach(async () => {
    await hosted?.stop();
    writer?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    hosted = writer = dir = undefined;
    errors.length = 0;
  });

  /** Frames in the WAL after one more commit: small once a RESTART let the WAL start over. */
  const framesAfterOneWrite = (db: BetterSqlite3.Database) => {
    db.prepare('insert into t (v) values (?)').run('x'.repeat(100));
    return (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
  };

  function bigWal(): string {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-hosted-ckpt-'));
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

  function start(file: string, buffer: SharedArrayBuffer): void {
    hosted = startHostedCheckpoints({
      file,
      writeTurn: buffer,
      settings: { intervalMs: 5, restartFrames: 100, restartWaitMs: 20, quickPassMs: 5 },
      onError: (error) => errors.push(error),
    });
  }

  it('waits for the turn as intake while the event loop keeps running, then restarts the WAL and gives the turn back', async () => {
    const file = bigWal();
    const buffer = createWriteTurnBuffer();
    const slots = new Int32Array(buffer, 0, 2);
    Atomics.store(slots, HELD, 1); // another writer of the process holds the turn
    start(file, buffer);
    await until(() => Atomics.load(slots, INTAKE_WAITING) === 1);
    // Still waiting, and this thread is free: a synchronous wait would have frozen it.
    let turns = 0;
    for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(() => r(void (turns += 1))));
    expect(turns).toBe(50);
    expect(Atomics.load(slots, INTAKE_WAITING)).toBe(1);
    releaseWriteTurn(slots);
    await until(() => Atomics.load(slots, INTAKE_WAITING) === 0 && Atomics.load(slots, HELD) === 0);
    expect(framesAfterOneWrite(writer!)).toBeLessThan(10);
    expect(errors).toEqual([]);
  });

  it('runs no checkpoint while the host works, and the one that fell due right after', async () => {
    const file = bigWal();
    const buffer = createWriteTurnBuffer();
    const slots = new Int32Array(buffer, 0, 2);
    start(file, buffer);
    // The host's operation: it starts before the first tick and lasts several intervals (5 ms each).
    const work = hosted!.around(async () => {
      const started = performance.now();
      while (performance.now() - started < 40) {
        await new Promise((r) => setImmediate(r));
        // No tick ran: nothing copied the WAL back, so no RESTART ever asked for the turn.
        expect(Atomics.load(slots, INTAKE_WAITING)).toBe(0);
        expect(Atomics.load(slots, HELD)).toBe(0);
      }
      expect(fs.statSync(file).size).toBeLessThan(100_000);
      return 'done';
    });
    expect(await work).toBe('done');
    // The tick that fell due ran as the work ended: the WAL was copied back and restarted.
    expect(fs.statSync(file).size).toBeGreaterThan(1_000_000);
    expect(framesAfterOneWrite(writer!)).toBeLessThan(10);
    expect(Atomics.load(slots, HELD)).toBe(0);
    expect(errors).toEqual([]);
  });
});
