import BetterSqlite3 from 'better-sqlite3';
import { createWalCheckpointer, type WalCheckpointSettings } from './wal-checkpointer.js';
import { threadId } from 'node:worker_threads';
import { acquireWriteTurnAsIntakeAsync, releaseWriteTurn, turnHolderOf } from './write-turn.js';

export interface HostedCheckpoints {
  /**
   * Runs the host's own store work. A checkpoint that falls due meanwhile waits for its end: its
   * PASSIVE pass blocks this thread, and with a transaction of the host's open (holding SQLite's
   * write lock) every other writer would wait for the pass too.
   */
  around<T>(work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export interface HostedCheckpointOptions {
  file: string;
  /** The process's write turn (write-turn.ts); the RESTART takes it as intake. */
  writeTurn: SharedArrayBuffer;
  settings: WalCheckpointSettings;
  onError: (error: unknown) => void;
}

/**
 * The WAL checkpoints (wal-checkpointer.ts) on a thread that does other store work, the detector
 * worker, through a connection of their own. Ticks run on a timer between the host's operations;
 * the write turn is awaited, not waited for synchronously, so the host's own transaction that holds
 * it can finish.
 */
export function startHostedCheckpoints(options: HostedCheckpointOptions): HostedCheckpoints {
  const db = new BetterSqlite3(options.file, { fileMustExist: true });
  const slots = new Int32Array(options.writeTurn, 0, 2);
  const checkpointer = createWalCheckpointer(
    db,
    { take: () => acquireWriteTurnAsIntakeAsync(slots, 1000, turnHolderOf(threadId)), release: () => releaseWriteTurn(slots) },
    options.settings,
  );
  let active = 0;
  let due = false;
  let ticking: Promise<void> | undefined;
  const tick = (): Promise<void> => {
    due = false;
    // A tick still waiting for the turn is the same work: no second one behind it.
    ticking ??= checkpointer
      .tick()
      .catch(options.onError)
      .finally(() => (ticking = undefined));
    return ticking;
  };
  const timer = setInterval(() => {
    if (active > 0) due = true;
    else void tick();
  }, options.settings.intervalMs);
  timer.unref();

  return {
    async around(work) {
      active += 1;
      try {
        return await work();
      } finally {
        active -= 1;
        if (active === 0 && due) await tick();
      }
    },
    async stop() {
      clearInterval(timer);
      await ticking;
      db.close();
    },
  };
}
