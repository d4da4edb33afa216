import type { BackgroundTask } from './background-loop.js';

/** Runs `task` at most once per `intervalMs` from the loop's more frequent ticks. */
export function every(intervalMs: number, now: () => number, task: BackgroundTask): BackgroundTask {
  let last: number | undefined;
  return {
    name: task.name,
    async run() {
      const t = now();
      if (last !== undefined && t - last < intervalMs) return;
      last = t;
      await task.run();
    },
  };
}
