import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { startCheckpointWorker, type CheckpointWorker } from '../../src/store/sqlite/checkpoint-worker.js';
import { createWriteTurnBuffer, releaseWriteTurn } from '../../src/store/sqlite/write-turn.js';
import { until } from '../support/until.js';
import { bigWal as makeBigWal, framesAfterOneWrite } from '../support/big-wal.js';

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

  function bigWal(): string {
    const made = makeBigWal('mw-ckpt-');
    dir = made.dir;
    writer = made.writer;
    return made.file;
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
