import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { letWorkersSizeTheirYoungGeneration } from '../../ops/worker-young-generation.js';

/**
 * WAL checkpoints copy committed pages from the WAL into the database file and fsync both. SQLite
 * runs them inside whichever commit crosses `wal_autocheckpoint`, which with better-sqlite3 means
 * on the event loop, in the middle of a webhook's request. Here a worker thread with its own
 * connection runs PASSIVE checkpoints instead: they never block the writer or readers, and their
 * I/O waits happen off the main thread. The writer keeps a high autocheckpoint as a safety net in
 * case the worker stops.
 */
export interface CheckpointWorker {
  stop(): Promise<void>;
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage({ error: String(error && error.message || error) }); }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') { clearInterval(timer); try { db.close(); } catch {} parentPort.postMessage('stopped'); }
});
`;

export function startCheckpointWorker(file: string, intervalMs: number, onError: (error: unknown) => void): CheckpointWorker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  letWorkersSizeTheirYoungGeneration();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs, driver }, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } });
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
