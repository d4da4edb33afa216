import v8 from 'node:v8';

let released = false;

/**
 * Lets worker threads started from now on size their heaps from their own `resourceLimits`. The
 * server runs with `--max-semi-space-size` and `--max-old-space-size` (serve-node-flags.ts) for the
 * request thread's sake, but V8 reads those flags for every isolate the process creates and they
 * override a worker's limits: with the semi-space flag each helper thread grew a 16.8 MB new space
 * (measured: the detector worker's heap was 48–55 MB under load, 39–41 MB with this, and the
 * server's peak RSS 232–237 → 218 MB, same throughput), and the old-space flag would raise the
 * detector worker's 128 MB limit, and with it how far V8 lets its heap grow between collections.
 * The request thread's heap was sized when it started and keeps its flag values; only isolates
 * created later read the flags again. Idempotent; call it right before starting a worker.
 */
export function letWorkersSizeTheirHeaps(): void {
  if (released) return;
  released = true;
  // 0 is V8's "not set": the isolate's own resource constraints decide.
  v8.setFlagsFromString('--max-semi-space-size=0');
  v8.setFlagsFromString('--max-old-space-size=0');
}
