import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { letWorkersSizeTheirHeaps } from '../../ops/worker-heap-limits.js';
import { createWalCheckpointer, type WalCheckpointSettings } from './wal-checkpointer.js';
import { acquireWriteTurn, releaseWriteTurn, releaseWriteTurnHeldBy, turnHolderOf } from './write-turn.js';

/**
 * WAL checkpoints on a thread of their own, for a process without a detector worker to host them
 * (wal-checkpointer.ts has the policy). SQLite would otherwise run them inside whichever commit
 * crosses `wal_autocheckpoint`, which with better-sqlite3 means on the event loop, in the middle of
 * a request. The writers keep a high autocheckpoint as a safety net in case this thread stops.
 */
export interface CheckpointWorker {
  stop(): Promise<void>;
}

export interface CheckpointOptions extends WalCheckpointSettings {
  file: string;
  writeTurn?: SharedArrayBuffer;
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
// esbuild's keepNames (tsx, from sources) wraps inner functions in __name(): nothing to keep here.
const __name = (fn) => fn;
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
${acquireWriteTurn.toString()}
${releaseWriteTurn.toString()}
${createWalCheckpointer.toString()}
const slots = workerData.writeTurn ? new Int32Array(workerData.writeTurn, 0, 2) : undefined;
// This thread does nothing else: waiting for the turn synchronously is fine here.
const turnHolderOf = ${turnHolderOf.toString()};
const holder = turnHolderOf(require('node:worker_threads').threadId);
const turn = slots ? { take: () => acquireWriteTurn(slots, 1000, holder), release: () => releaseWriteTurn(slots) } : undefined;
const checkpointer = createWalCheckpointer(db, turn, workerData);
const timer = setInterval(() => {
  checkpointer.tick().catch((error) => parentPort.postMessage({ error: String(error && error.message || error) }));
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') { clearInterval(timer); try { db.close(); } catch {} parentPort.postMessage('stopped'); }
});
`;

export function startCheckpointWorker(options: CheckpointOptions, onError: (error: unknown) => void): CheckpointWorker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  letWorkersSizeTheirHeaps();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...options, driver }, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } });
  worker.unref();
  worker.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'error' in message) onError(new Error(String((message as { error: unknown }).error)));
  });
  worker.on('error', onError);
  const holder = turnHolderOf(worker.threadId);
  worker.once('exit', () => {
    // Dead during a RESTART: the turn it held would keep every other writer waiting.
    if (options.writeTurn) releaseWriteTurnHeldBy(new Int32Array(options.writeTurn, 0, 2), holder);
  });
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
