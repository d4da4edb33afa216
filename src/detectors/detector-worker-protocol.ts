import type { DatabaseConfig, LogLevel } from '../config.js';
import type { FeedPosition } from '../store/store.js';
import type { WalCheckpointSettings } from '../store/sqlite/wal-checkpointer.js';

/** What the detector worker thread is started with (structured-cloned, except the shared buffers). */
export interface DetectorWorkerData {
  database: DatabaseConfig;
  logLevel: LogLevel;
  liveHorizonMs: number;
  resolveAfterMs: number;
  suppressForMs: number;
  /** Work per 250 ms while requests are in flight; idle, the worker runs at full speed. */
  budgetMs: number;
  /** Nice value the worker gives its own thread (lower-thread-priority.ts); 0 leaves it as it is. */
  threadNice: number;
  /** Events per batch while requests are in flight: each batch's aggregation is one write transaction the webhook writer may wait behind. */
  loadedBatchSize: number;
  /** Events per batch when idle: larger batches cost less CPU per event (catching up after a burst). */
  idleBatchSize: number;
  /** How often an idle worker looks for new events. */
  idlePollMs: number;
  scheduleIntervalMs: number;
  /** RequestLoad.buffer: the request thread's in-flight count (Int32 at 0). */
  load: SharedArrayBuffer;
  /** The worker's heartbeat: epoch ms of its last loop turn (BigInt64 at 0). */
  heartbeat: SharedArrayBuffer;
  /** SQLite: the main store's write turn; the worker's transactions let webhook inserts go first. */
  writeTurn?: SharedArrayBuffer;
  /** SQLite: the worker runs the WAL checkpoints with these settings (hosted-checkpoints.ts). */
  checkpoints?: WalCheckpointSettings;
}

export type ToWorker =
  /** Process until the feed is empty (read after this message arrived), then answer `drained`. */
  | { type: 'drain'; id: number }
  /** A tenant's detector settings changed: drop anything cached for it. */
  | { type: 'settings-changed'; tenantId: string }
  /** Finish the batch in hand, release the schedule lease, close the connection, exit. */
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'processed'; events: number }
  | { type: 'drained'; id: number; position: FeedPosition }
  | { type: 'schedule'; acquired: boolean }
  | { type: 'detector-error'; detector: string }
  | { type: 'store-error'; operation: string }
  | { type: 'stopped' };
