import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { startHostedCheckpoints, type HostedCheckpoints } from '../../src/store/sqlite/hosted-checkpoints.js';
import { createWriteTurnBuffer, releaseWriteTurn } from '../../src/store/sqlite/write-turn.js';
import { until } from '../support/until.js';
import { bigWal as makeBigWal, framesAfterOneWrite } from '../support/big-wal.js';

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

  function bigWal(): string {
    const made = makeBigWal('mw-hosted-ckpt-');
    dir = made.dir;
    writer = made.writer;
    return made.file;
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
