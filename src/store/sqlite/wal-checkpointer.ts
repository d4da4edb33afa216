/**
 * The WAL checkpoint policy, run by whichever thread hosts it: the detector worker when there is
 * one (it is a background thread already, and one V8 isolate fewer is ~8 MB less resident memory),
 * else a checkpoint thread of its own (checkpoint-worker.ts). docs/STORAGE.md tells the story.
 *
 * Every tick runs a PASSIVE checkpoint: it copies committed pages back into the database file and
 * never blocks writers or readers. PASSIVE alone is not enough under steady load: the WAL only starts
 * over from its beginning when a writer finds every frame copied back and no reader inside the WAL,
 * and with the webhook writer, the detector worker and the request thread reading and writing all
 * the time that moment never came; the WAL grew past `wal_autocheckpoint`, and from then on every
 * commit ran a checkpoint with an fsync inline (detector commits took 75–150 ms at ~6,000
 * webhooks/s, holding the write lock that whole time). So when the WAL holds more than
 * `restartFrames` frames, PASSIVE passes repeat until one is quick, then the tick takes the process's
 * write turn as intake (write-turn.ts: no writer of ours starts while it is held), lets readers
 * finish for `restartWaitMs` at most, and runs RESTART, after which the next writer starts the WAL
 * over. The fsync is what costs (1,500 scattered pages took 34 ms to sync on the development disk,
 * 100 pages 4 ms), and the turn is held only for that.
 *
 * `createWalCheckpointer` is self-contained (no imports, no closures over module scope): the
 * checkpoint thread runs plain JavaScript without our build and embeds it by its source text.
 */

/** The part of a better-sqlite3 connection the checkpointer uses. */
export interface CheckpointConnection {
  pragma(source: string): unknown;
}

export interface WalCheckpointSettings {
  /** Time between ticks. */
  intervalMs: number;
  /** WAL frames above which a RESTART checkpoint runs under the write turn. */
  restartFrames: number;
  /** How long a RESTART may wait for readers (it holds the write turn meanwhile). */
  restartWaitMs: number;
  /** PASSIVE passes repeat before a RESTART until one takes less than this. */
  quickPassMs: number;
}

export const WAL_CHECKPOINT_SETTINGS: WalCheckpointSettings = { intervalMs: 500, restartFrames: 4000, restartWaitMs: 20, quickPassMs: 5 };

/** Taking and giving back the write turn as intake; `take` resolves false after its own timeout. */
export interface IntakeTurn {
  take(): boolean | Promise<boolean>;
  release(): void;
}

export interface WalCheckpointer {
  /** One PASSIVE pass, and a RESTART when the WAL is over the threshold. Overlapping calls return at once. */
  tick(): Promise<void>;
}

export function createWalCheckpointer(db: CheckpointConnection, turn: IntakeTurn | undefined, settings: WalCheckpointSettings): WalCheckpointer {
  type CheckpointResult = { busy: number; log: number; checkpointed: number };
  const checkpoint = (mode: string): CheckpointResult | undefined => (db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0];
  const setBusyTimeout = (ms: number) => db.pragma(`busy_timeout = ${Number(ms)}`);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let running = false;
  let restartedAt = -1;
  setBusyTimeout(1000);

  const restart = async (intake: IntakeTurn): Promise<number> => {
    // Catch up outside the turn until a pass is quick: what RESTART copies and syncs under the turn
    // is then only what was committed during that last quick pass.
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      checkpoint('PASSIVE');
      if (performance.now() - started < settings.quickPassMs) break;
    }
    const taken = await intake.take();
    // Readers still inside the WAL make RESTART report busy; they finish within a millisecond or two,
    // so it is retried every 0.25 ms rather than through SQLite's busy handler, whose sleeps (1, 2, 5,
    // 10 ms…) would keep the turn, and intake, waiting far longer than the readers take.
    setBusyTimeout(0);
    try {
      const deadline = performance.now() + settings.restartWaitMs;
      for (;;) {
        const result = checkpoint('RESTART');
        if (result && result.busy === 0) return result.log;
        if (performance.now() >= deadline) return -1;
        Atomics.wait(pause, 0, 0, 0.25);
      }
    } finally {
      setBusyTimeout(1000);
      if (taken) intake.release();
    }
  };

  return {
    async tick() {
      if (running) return;
      running = true;
      try {
        const state = checkpoint('PASSIVE');
        // The WAL starts over at the next write after a RESTART: until something is written, its
        // frame count stays where the RESTART left it, and there is nothing to restart again.
        if (turn && state && state.log > settings.restartFrames && state.log !== restartedAt) restartedAt = await restart(turn);
      } finally {
        running = false;
      }
    },
  };
}
