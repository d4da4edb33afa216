import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { acquireWriteTurn, releaseWriteTurn, releaseWriteTurnHeldBy, turnHolderOf } from './write-turn.js';
import { letWorkersSizeTheirHeaps } from '../../ops/worker-heap-limits.js';

/**
 * Webhook inserts on their own thread and connection. A stored Stripe event is a ~4 KB row with two
 * index entries; with better-sqlite3 that write is synchronous, and on the request thread it was the
 * largest single cost of a webhook after HTTP itself (~20 % of the thread at saturation). Here the
 * request thread only hands the rows over (a structured clone, a few µs per row) and awaits the
 * answer, which the worker sends after COMMIT: a 200 still means the row is durable.
 *
 * SQLite allows one writer at a time; this connection and the main one take turns through the
 * busy timeout. Commits here are short (one group-commit batch, one prepared statement), so the
 * other writers rarely wait more than a millisecond or two.
 */
export interface EventWriterThread {
  /** Inserts the rows (values in `columns` order) in one transaction; true where a row was new. */
  insert(rows: unknown[][]): Promise<boolean[]>;
  stop(): Promise<void>;
}

export interface EventWriterOptions {
  file: string;
  /** `insert into t (cols) values (?, …) on conflict … do nothing`: one row, no RETURNING. */
  insertSql: string;
  busyTimeoutMs: number;
  /** Shared with the other writing threads of this process (see write-turn.ts); intake goes first. */
  writeTurn?: SharedArrayBuffer;
}

interface Reply {
  id: number;
  inserted?: boolean[];
  error?: string;
}

// CommonJS source run with `eval`: the worker needs nothing from our build but the driver, which
// keeps it small (a few MB) and independent of where the compiled files live.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs));
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('wal_autocheckpoint = 20000');
const insert = db.prepare(workerData.insertSql);
const write = db.transaction((rows) => rows.map((row) => insert.run(row).changes === 1));
${acquireWriteTurn.toString()}
${releaseWriteTurn.toString()}
const turn = workerData.writeTurn ? new Int32Array(workerData.writeTurn, 0, 2) : undefined;
const turnHolderOf = ${turnHolderOf.toString()};
const holder = turnHolderOf(require('node:worker_threads').threadId);
parentPort.on('message', (message) => {
  if (message === 'stop') { try { db.close(); } catch {} parentPort.postMessage('stopped'); return; }
  const taken = turn !== undefined && acquireWriteTurn(turn, workerData.busyTimeoutMs, holder);
  try {
    parentPort.postMessage({ id: message.id, inserted: write(message.rows) });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String((error && (error.code || error.message)) || error) });
  } finally {
    if (taken) releaseWriteTurn(turn);
  }
});
`;

export function startEventWriterThread(options: EventWriterOptions): EventWriterThread {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  let worker: Worker | undefined;
  let stopped = false;
  let nextId = 1;
  const pending = new Map<number, { resolve: (inserted: boolean[]) => void; reject: (error: Error) => void }>();

  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  // Started on first use and again after a crash, so a dead worker costs one failed batch (503s
  // that Stripe retries), not the intake.
  const ensureWorker = (): Worker => {
    if (worker) return worker;
    letWorkersSizeTheirHeaps();
    const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...options, driver }, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
    started.unref();
    started.on('message', (message: Reply | 'stopped') => {
      if (message === 'stopped') return;
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.inserted) waiter.resolve(message.inserted);
      else waiter.reject(new Error(`event writer: ${message.error ?? 'unknown error'}`));
    });
    const holder = turnHolderOf(started.threadId);
    const lost = (reason: string) => {
      // Dead in the middle of a batch: the turn it held would keep every other writer waiting.
      if (options.writeTurn) releaseWriteTurnHeldBy(new Int32Array(options.writeTurn, 0, 2), holder);
      if (worker === started) worker = undefined;
      failAll(new Error(`event writer: ${reason}`));
    };
    started.on('error', (error) => lost(error.message));
    started.on('exit', (code) => lost(`thread exited (${code})`));
    worker = started;
    return started;
  };

  return {
    insert(rows) {
      if (stopped) return Promise.reject(new Error('event writer: stopped'));
      if (rows.length === 0) return Promise.resolve([]);
      const id = nextId++;
      return new Promise<boolean[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        try {
          ensureWorker().postMessage({ id, rows });
        } catch (error) {
          pending.delete(id);
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    },
    async stop() {
      stopped = true;
      const current = worker;
      worker = undefined;
      if (!current) return;
      // Messages are handled in order: 'stop' runs after every batch already sent.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => void current.terminate().then(() => resolve(), () => resolve()), 5_000);
        timer.unref();
        current.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        current.on('message', (m) => {
          if (m === 'stopped') void current.terminate();
        });
        current.postMessage('stop');
      });
    },
  };
}
