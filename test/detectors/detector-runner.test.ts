import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DetectorRunner, type RunnerPorts } from '../../src/detectors/detector-runner.js';
import type { FromWorker } from '../../src/detectors/detector-worker-protocol.js';

/** The worker's loop against fake ports: no thread, no store; waits are on posted messages. */
function harness(batches: number[], busy: () => boolean = () => false) {
  const feed = [...batches];
  const calls: { loaded: boolean }[] = [];
  const posted: FromWorker[] = [];
  const waiters: { match: (m: FromWorker) => boolean; resolve: (m: FromWorker) => void }[] = [];
  let released = 0;
  let evaluated = 0;
  const ports: RunnerPorts = {
    async drainOneBatch(loaded) {
      calls.push({ loaded });
      const n = feed.shift() ?? 0;
      evaluated += n;
      return n;
    },
    runSchedule: async () => true,
    releaseLease: async () => void (released += 1),
    evaluatedUpTo: async () => ({ tx: 0, seq: evaluated }),
    settingsChanged: () => {},
    busy,
    beat: () => {},
    post(message) {
      posted.push(message);
      for (const w of waiters.splice(0)) (w.match(message) ? w.resolve(message) : waiters.push(w));
    },
    logger: pino({ level: 'silent' }),
  };
  const runner = new DetectorRunner(ports, { budgetMs: 100, idlePollMs: 60_000, scheduleIntervalMs: 60_000 });
  const next = (match: (m: FromWorker) => boolean) => new Promise<FromWorker>((resolve) => waiters.push({ match, resolve }));
  return { runner, feed, calls, posted, next, released: () => released };
}

describe('DetectorRunner (the detector worker loop)', () => {
  it('answers a drain request once the feed read after it is empty, and wakes from its idle wait for it', async () => {
    const h = harness([10, 10, 5]);
    const firstIdle = h.next((m) => m.type === 'processed');
    const running = h.runner.run();
    expect(await firstIdle).toEqual({ type: 'processed', events: 25 });
    // Idle now (a 60 s poll): new events and a drain request; the request wakes it at once.
    h.feed.push(7);
    const drained = h.next((m) => m.type === 'drained');
    h.runner.handle({ type: 'drain', id: 1 });
    expect(await drained).toEqual({ type: 'drained', id: 1, position: { tx: 0, seq: 32 } });
    h.runner.handle({ type: 'stop' });
    await running;
    expect(h.released()).toBe(1);
    expect(h.posted[0]).toEqual({ type: 'schedule', acquired: true });
  });

  it('uses short batches while requests are in flight and long ones when idle', async () => {
    let inFlight = 1;
    const h = harness([16, 16, 16], () => inFlight > 0);
    const first = h.next((m) => m.type === 'processed');
    const running = h.runner.run();
    await first;
    expect(h.calls.slice(0, 3).every((c) => c.loaded)).toBe(true);
    inFlight = 0;
    h.feed.push(64);
    const drained = h.next((m) => m.type === 'drained');
    h.runner.handle({ type: 'drain', id: 2 });
    await drained;
    expect(h.calls.at(-1)?.loaded).toBe(false);
    h.runner.handle({ type: 'stop' });
    await running;
  });

  it('stops at a batch boundary: no batch starts after the stop request', async () => {
    const h = harness(Array.from({ length: 1_000 }, () => 1));
    const running = h.runner.run();
    await h.next((m) => m.type === 'schedule');
    h.runner.handle({ type: 'stop' });
    const before = h.calls.length;
    await running;
    expect(h.calls.length - before).toBeLessThanOrEqual(1);
    expect(h.feed.length).toBeGreaterThan(900);
    expect(h.released()).toBe(1);
  });
});
