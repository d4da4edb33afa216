import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { letWorkersSizeTheirYoungGeneration } from '../../ops/worker-young-generation.js';
import { acquireWriteTurn, releaseWriteTurn } from './write-turn.js';

/**
 * WAL checkpoints copy committed pages from the WAL into the database file and fsync both. SQLite
 * runs them inside whichever commit crosses `wal_autocheckpoint`, which with better-sqlite3 means
 * on the event loop, in the middle of a webhook's request. Here a worker thread with its own
 * connection runs PASSIVE checkpoints instead: they never block the writer or readers, and their
 * I/O waits happen off the main thread. The writer keeps a high autocheckpoint as a safety net in
 * case the worker stops.
 *
 * PASSIVE alone is not enough under steady load. The WAL only starts over from its beginning when
 * a writer finds every frame checkpointed and no reader inside the WAL, and with the webhook writer,
 * the detector worker and the request thread reading and writing all the time that moment never
 * came: the WAL grew past `wal_autocheckpoint`, and from then on every commit ran a checkpoint with
 * an fsync inline. Measured at ~6,000 webhooks/s, detector commits took 75–150 ms, holding the write
 * lock that whole time while intake waited. So when the WAL holds more than `restartFrames`
 * frames, this worker takes the process's write turn (write-turn.ts, no writer of ours starts while
 * it is held), lets readers finish for a few milliseconds at most, and runs a RESTART checkpoint,
 * after which the next writer starts the WAL over. PASSIVE passes repeat first until one is quick,
 * so RESTART has little left to copy and fsync: the fsync is what costs (on this machine's disk,
 * 1,500 scattered pages took 34 ms to sync, 100 pages 4 ms), and the turn is held only for that.
 */
export interface CheckpointWorker {
  stop(): Promise<void>;
}

export interface CheckpointOptions {
  file: string;
  intervalMs: number;
  /** WAL frames above which a RESTART checkpoint runs under the write turn. */
  restartFrames: number;
  /** How long a RESTART may wait for readers (it holds the write turn meanwhile). */
  restartWaitMs: number;
  /** PASSIVE passes repeat before a RESTART until one takes less than this. */
  quickPassMs: number;
  writeTurn?: SharedArrayBuffer;
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
${acquireWriteTurn.toString()}
${releaseWriteTurn.toString()}
const turn = workerData.writeTurn ? new Int32Array(workerData.writeTurn, 0, 2) : undefined;
const setBusyTimeout = (ms) => db.pragma('busy_timeout = ' + Number(ms));
setBusyTimeout(1000);
const restart = () => {
  // Catch up outside the turn until a pass is quick: what RESTART copies and syncs under the turn is
  // then only what was committed during that last quick pass.
  for (let i = 0; i < 8; i++) {
    const started = performance.now();
    db.pragma('wal_checkpoint(PASSIVE)');
    if (performance.now() - started < workerData.quickPassMs) break;
  }
  const taken = acquireWriteTurn(turn, 1000);
  // Readers still inside the WAL make RESTART report busy; they finish within a millisecond or
  // two, so it is retried every 0.25 ms rather than through SQLite's busy handler, whose sleeps
  // (1, 2, 5, 10 ms…) would keep the turn, and intake, waiting far longer than the readers take.
  setBusyTimeout(0);
  try {
    const deadline = performance.now() + workerData.restartWaitMs;
    for (;;) {
      const [result] = db.pragma('wal_checkpoint(RESTART)');
      if (result.busy === 0) return result.log;
      if (performance.now() >= deadline) return -1;
      Atomics.wait(pause, 0, 0, 0.25);
    }
  } finally {
    setBusyTimeout(1000);
    if (taken) releaseWriteTurn(turn);
  }
};
const pause = new Int32Array(new SharedArrayBuffer(4));
let restartedAt = -1;
const timer = setInterval(() => {
  try {
    const [state] = db.pragma('wal_checkpoint(PASSIVE)');
    // The WAL starts over at the next write after a RESTART: until something is written, its frame
    // count stays where the RESTART left it, and there is nothing to restart again.
    if (turn && state && state.log > workerData.restartFrames && state.log !== restartedAt) restartedAt = restart();
  } catch (error) { parentPort.postMessage({ error: String(error && error.message || error) }); }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') { clearInterval(timer); try { db.close(); } catch {} parentPort.postMessage('stopped'); }
});
`;

export function startCheckpointWorker(options: CheckpointOptions, onError: (error: unknown) => void): CheckpointWorker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  letWorkersSizeTheirYoungGeneration();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...options, driver }, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } });
  worker.unref();
  worker.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'error' in message) onError(new Error(String((message as { error: unknown }).error)));
  });
  worker.on('error', onError);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => resolve();
        worker.once('exit', done);
        worker.once('message', (m) => {
          if (m === 'stopped') void worker.terminate().then(done, done);
        });
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate().then(done, done), 2_000).unref();
      }),
  };
}
