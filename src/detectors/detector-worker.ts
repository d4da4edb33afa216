/**
 * Entry point of the detector worker thread (started by DetectorThread). It opens its own store
 * connection (SQLite: the same file in WAL; PostgreSQL: a small pool of its own), never migrates
 * (the request thread did), and runs the same DetectorEngine as inline mode with the system clock.
 * Only what the detectors need is imported: no HTTP server, no Stripe client.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../ops/create-logger.js';
import { lowerThreadPriority } from '../ops/lower-thread-priority.js';
import { systemClock } from '../shared/clock.js';
import { createIdGenerator } from '../shared/ids.js';
import type { KyselyStore } from '../store/kysely-store.js';
import { DETECTORS } from './rules/index.js';
import { DetectorSettings } from './detector-settings.js';
import { IncidentService } from './incident-service.js';
import { DetectorEngine, EVALUATE_CURSOR } from './detector-engine.js';
import { DetectorRunner } from './detector-runner.js';
import type { DetectorWorkerData, FromWorker, ToWorker } from './detector-worker-protocol.js';

if (!parentPort) throw new Error('detector-worker.ts runs as a worker thread (see detector-thread.ts)');
const port = parentPort;
const data = workerData as DetectorWorkerData;
const post = (message: FromWorker) => port.postMessage(message);
const logger = createLogger(data.logLevel).child({ thread: 'detectors' });
const load = new Int32Array(data.load, 0, 1);
const heartbeat = new BigInt64Array(data.heartbeat, 0, 1);
if (data.threadNice > 0 && lowerThreadPriority(data.threadNice) === undefined) logger.debug('could not lower the detector thread priority');

const onError = (operation: string, error: unknown) => {
  post({ type: 'store-error', operation });
  logger.debug({ operation, err: error }, 'store operation failed');
};
// Imported on demand: a SQLite replica never loads the PostgreSQL driver, and the reverse.
const store: KyselyStore =
  data.database.kind === 'postgres'
    ? (await import('../store/postgres/create-postgres-store.js')).createPostgresStore({ url: data.database.url, poolSize: 2, onError })
    : (await import('../store/sqlite/create-sqlite-store.js')).createSqliteStore({
        file: data.database.file,
        helperThreads: false,
        onError,
        // The turn's wait is bounded like the busy timeout; past it SQLite's own lock decides.
        ...(data.writeTurn ? { backgroundWriteTurn: { buffer: data.writeTurn, timeoutMs: 5_000 } } : {}),
      });

// SQLite: the WAL checkpoints run here too, on a connection of their own, between this thread's
// store operations (hosted-checkpoints.ts); a process without this worker has a checkpoint thread.
const checkpoints =
  data.database.kind === 'sqlite' && data.checkpoints && data.writeTurn
    ? (await import('../store/sqlite/hosted-checkpoints.js')).startHostedCheckpoints({
        file: data.database.file,
        writeTurn: data.writeTurn,
        settings: data.checkpoints,
        onError: (error) => onError('checkpoint', error),
      })
    : undefined;
/** Store work of the runner: checkpoints that fall due meanwhile wait for its end. */
const storeWork = <T>(work: () => Promise<T>): Promise<T> => (checkpoints ? checkpoints.around(work) : work());

const clock = systemClock;
const settings = new DetectorSettings(store, clock, DETECTORS);
const incidents = new IncidentService(store, createIdGenerator(clock), clock, { resolveAfterMs: data.resolveAfterMs, suppressForMs: data.suppressForMs });
const engineWith = (batchSize: number) =>
  new DetectorEngine(store, settings, incidents, clock, logger, { liveHorizonMs: data.liveHorizonMs, batchSize }, (detector) => post({ type: 'detector-error', detector }));
// Two engines over the same durable cursors, differing only in batch size; `engine` also runs the
// schedule and holds its lease.
const engine = engineWith(data.idleBatchSize);
const loadedEngine = engineWith(data.loadedBatchSize);

const runner = new DetectorRunner(
  {
    drainOneBatch: (loaded) => storeWork(() => (loaded ? loadedEngine : engine).drain(1)),
    runSchedule: () => storeWork(() => engine.runSchedule()),
    releaseLease: () => storeWork(() => engine.stop()),
    evaluatedUpTo: () => storeWork(() => store.getFeedCursor(EVALUATE_CURSOR)),
    // DetectorSettings reads the store on every batch today (no cache), so a change is seen by the
    // next batch; should it ever cache, this is where the entry is dropped.
    settingsChanged: (tenantId) => (settings as { invalidate?: (tenantId: string) => void }).invalidate?.(tenantId),
    busy: () => Atomics.load(load, 0) > 0,
    beat: () => Atomics.store(heartbeat, 0, BigInt(Date.now())),
    post,
    logger,
  },
  { budgetMs: data.budgetMs, idlePollMs: data.idlePollMs, scheduleIntervalMs: data.scheduleIntervalMs },
);
port.on('message', (message: ToWorker) => runner.handle(message));
Atomics.store(heartbeat, 0, BigInt(Date.now()));
post({ type: 'ready' });
try {
  await runner.run();
} finally {
  await checkpoints?.stop().catch((error) => logger.warn({ err: error }, 'could not close the checkpoint connection'));
  await store.close().catch((error) => logger.warn({ err: error }, 'could not close the detector worker store'));
}
post({ type: 'stopped' });
port.close();
