/**
 * Whose turn it is to write to the SQLite file, shared by the threads of one process that write
 * through their own connections: the webhook writer and the checkpoint worker's RESTART (intake,
 * first in line), and the request thread's and detector worker's connections (background, waiting
 * asynchronously through turn-taking-dialect.ts). SQLite's own lock stays the only guarantee of correctness; this only decides who
 * goes next. Without it a blocked writer waits in SQLite's busy handler, which sleeps 1, 2, 5, 10 ms…
 * between tries however soon the lock frees: measured at 4,661 webhooks/s with the detectors running,
 * the writer's p99 batch took 18.8 ms for 0.35 ms of work (p50). Here a waiter sleeps on a futex and
 * the holder wakes it at release, and a background writer steps aside while intake waits.
 *
 * Layout (Int32 slots): [0] the holder's id while a turn is held (its thread id + 1), 0 when free;
 * [1] intake writers waiting. A wait that outlasts `timeoutMs` goes ahead without the turn and
 * SQLite's busy timeout takes over, so nothing deadlocks; and when a helper thread dies, its parent
 * frees a turn it still held (`releaseWriteTurnHeldBy`), or every later writer would wait out its
 * timeout, one after another, for good.
 *
 * The two synchronous functions below are self-contained (no imports, no closures): the webhook
 * writer and checkpoint threads run plain JavaScript without our build and embed them by their
 * source text.
 */
export const WRITE_TURN_BYTES = 8;

export function createWriteTurnBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(WRITE_TURN_BYTES);
}

/**
 * Takes the turn as intake (first in line: counted as waiting, so background writers step aside);
 * true when taken, false after `timeoutMs` (go ahead anyway: SQLite still locks). Blocks the thread.
 */
export function acquireWriteTurn(slots: Int32Array, timeoutMs: number, holder = 1): boolean {
  const deadline = Date.now() + timeoutMs;
  Atomics.add(slots, 1, 1);
  try {
    for (;;) {
      const held = Atomics.load(slots, 0);
      if (held === 0 && Atomics.compareExchange(slots, 0, 0, holder) === 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(slots, 0, held, left);
    }
  } finally {
    Atomics.sub(slots, 1, 1);
  }
}

export function releaseWriteTurn(slots: Int32Array): void {
  Atomics.store(slots, 0, 0);
  Atomics.notify(slots, 0);
}

/** Frees the turn if `holder` (a thread that has exited) still holds it; true when it did. */
export function releaseWriteTurnHeldBy(slots: Int32Array, holder: number): boolean {
  if (Atomics.compareExchange(slots, 0, holder, 0) !== holder) return false;
  Atomics.notify(slots, 0);
  return true;
}

/** The id a thread takes the turn under: its thread id + 1 (the main thread's id is 0, the free value). */
export const turnHolderOf = (threadId: number): number => threadId + 1;

/**
 * Takes the turn as a background writer, letting waiting intake go first even when the turn is
 * free; waits with `Atomics.waitAsync`, so the thread's event loop keeps running (on the request
 * thread: requests keep being served). True when taken, false after `timeoutMs`.
 */
export async function acquireWriteTurnAsync(slots: Int32Array, timeoutMs: number, holder = 1): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = Atomics.load(slots, 0);
    if (held === 0 && Atomics.load(slots, 1) === 0 && Atomics.compareExchange(slots, 0, 0, holder) === 0) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    // Stepping aside for intake means waiting on a free turn: the short cap covers the moment
    // between intake's "waiting" and its taking the turn.
    const waiting = waitAsync(slots, 0, held, held === 0 ? Math.min(left, 1) : left);
    if (waiting.async) await waiting.value;
  }
}

/**
 * Takes the turn as intake (first in line, like `acquireWriteTurn`) but waits with
 * `Atomics.waitAsync`: for a thread whose own background writes take the turn asynchronously too
 * (the detector worker hosting the WAL checkpoints), where a synchronous wait for a turn its own
 * unfinished transaction holds would never end. True when taken, false after `timeoutMs`. The same
 * loop as `acquireWriteTurn` but for the wait: that one stays self-contained, for embedding.
 */
export async function acquireWriteTurnAsIntakeAsync(slots: Int32Array, timeoutMs: number, holder = 1): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  Atomics.add(slots, 1, 1);
  try {
    for (;;) {
      const held = Atomics.load(slots, 0);
      if (held === 0 && Atomics.compareExchange(slots, 0, 0, holder) === 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const waiting = waitAsync(slots, 0, held, left);
      if (waiting.async) await waiting.value;
    }
  } finally {
    Atomics.sub(slots, 1, 1);
  }
}

// ES2024, in V8 since Node 16; TypeScript's lib for our target does not declare it yet.
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;
