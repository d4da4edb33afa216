import fs from 'node:fs';
import os from 'node:os';

/**
 * Lowers the scheduling priority of the calling thread only (Linux: the nice value is per thread,
 * and setpriority() given a thread id changes that thread alone). Background threads use it so that,
 * when cores are short, the scheduler prefers the request thread. On the 2-core benchmark machine the
 * gain for webhook intake was within the run-to-run spread in alternated runs (docs/BENCHMARKS.md,
 * fourth session); it is kept because background work should never outrank requests.
 *
 * Returns the thread id that was changed, or undefined where that is not possible (no
 * /proc/thread-self, or not permitted): the thread then keeps its priority and works as before.
 */
export function lowerThreadPriority(nice: number): number | undefined {
  if (nice <= 0 || process.platform !== 'linux') return undefined;
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return undefined;
    os.setPriority(tid, Math.min(nice, 19));
    return tid;
  } catch {
    return undefined;
  }
}
